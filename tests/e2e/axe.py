"""axe-core in the browser tests: the vendored axe.min.js (vendor/axe-core, MPL-2.0, its LICENSE beside it)."""

from pathlib import Path

AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def axe_violations(page, impacts=BLOCKING) -> list[str]:
    """The page's axe-core violations of the given impacts, one readable line each (rule, impact, where)."""
    page.add_script_tag(path=str(AXE_JS))
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in results["violations"]
        if violation["impact"] in impacts
    ]


def horizontal_overflow(page) -> int:
    """How many pixels the page, or the lead list's table box, is wider than it shows (0: no horizontal scroll)."""
    return page.evaluate("""() => Math.max(
        document.documentElement.scrollWidth - document.documentElement.clientWidth,
        ...Array.from(document.querySelectorAll('#changelist .results, .crm-workspace, .crm-lead-header'),
                      box => box.scrollWidth - box.clientWidth))""")
