"""What a browser would post from an admin page's form: every named input, select and textarea as shown."""

from html.parser import HTMLParser


class _FormFields(HTMLParser):
    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attr = dict(attrs)
        if tag == "form":
            self.inside = attr.get("id") == self.form_id
        if not self.inside:
            return
        name = attr.get("name")
        if tag == "input" and name and not (attr.get("type") in ("checkbox", "radio") and "checked" not in attr):
            if attr.get("type") not in ("submit", "button", "file"):
                self.data.setdefault(name, []).append(attr.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attr:
            self.data[self._select].append(attr.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.data.setdefault(self._textarea, []).append("".join(self._text).removeprefix("\n"))
            self._textarea = None


def form_data(html: str, form_id: str) -> dict[str, list[str]]:
    parser = _FormFields(form_id)
    parser.feed(html)
    return {name: values for name, values in parser.data.items() if values}
