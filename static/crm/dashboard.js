// The sales dashboard's charts (templates/admin/dashboard.html), drawn with the vendored Chart.js from
// the figures the page embeds with json_script. Colours come from the admin's CSS variables, so the
// charts follow the light/dark theme, and are redrawn when the theme toggle changes it.
"use strict";
(function () {
    const charts = [];

    function cssVar(name) {
        return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    }

    function percent(value) {
        return value === null ? "–" : value.toFixed(1) + "%";
    }

    function draw(data) {
        const text = cssVar("--body-quiet-color");
        const grid = cssVar("--hairline-color");
        const bar = cssVar("--link-fg");
        const rate = cssVar("--dash-rate");
        Chart.defaults.color = text;
        Chart.defaults.borderColor = grid;
        Chart.defaults.font.family = cssVar("--font-family-primary") || Chart.defaults.font.family;
        // A dashboard is read, not watched: no animation, and screenshots show the finished chart.
        Chart.defaults.animation = false;
        Chart.defaults.maintainAspectRatio = false;

        const funnel = document.getElementById("chart-funnel");
        if (funnel) {
            charts.push(new Chart(funnel, {
                type: "bar",
                data: {
                    labels: data.funnel.labels,
                    datasets: [{ label: "Leads", data: data.funnel.counts, backgroundColor: bar }],
                },
                options: {
                    indexAxis: "y",
                    plugins: {
                        legend: { display: false },
                        tooltip: { callbacks: { afterLabel: (item) => percent(data.funnel.pct[item.dataIndex]) + " of new" } },
                    },
                    scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
                },
            }));
        }

        const sources = document.getElementById("chart-sources");
        if (sources) {
            charts.push(new Chart(sources, {
                type: "bar",
                data: {
                    labels: data.sources.labels,
                    datasets: [
                        { label: "Leads", data: data.sources.leads, backgroundColor: bar, pointStyle: "rect", yAxisID: "y", order: 2 },
                        {
                            label: "Conversion rate (%)", data: data.sources.pct, type: "line", yAxisID: "rate",
                            // Points, not a line: sources are categories, nothing runs between them.
                            borderColor: rate, backgroundColor: rate, showLine: false, pointStyle: "rectRot",
                            pointRadius: 7, pointHoverRadius: 9, order: 1,
                        },
                    ],
                },
                options: {
                    plugins: { legend: { position: "bottom", labels: { usePointStyle: true } } },
                    scales: {
                        y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Leads" } },
                        rate: {
                            position: "right", beginAtZero: true, suggestedMax: 100, grid: { drawOnChartArea: false },
                            ticks: { callback: (value) => value + "%" }, title: { display: true, text: "Converted" },
                        },
                    },
                },
            }));
        }

        const bands = document.getElementById("chart-bands");
        if (bands) {
            charts.push(new Chart(bands, {
                type: "doughnut",
                data: {
                    labels: data.bands.labels,
                    datasets: [{
                        data: data.bands.counts,
                        backgroundColor: data.bands.keys.map((key) => cssVar("--dash-" + key)),
                        borderColor: cssVar("--body-bg"),
                    }],
                },
                options: { plugins: { legend: { position: "right" } } },
            }));
        }
    }

    function redraw(data) {
        charts.splice(0).forEach((chart) => chart.destroy());
        draw(data);
    }

    function periodPicker() {
        const select = document.getElementById("id_period");
        const custom = document.querySelector("[data-custom-dates]");
        if (!select || !custom) {
            return;
        }
        const sync = () => { custom.hidden = select.value !== "custom"; };
        select.addEventListener("change", sync);
        sync();
    }

    document.addEventListener("DOMContentLoaded", function () {
        periodPicker();
        const source = document.getElementById("dashboard-data");
        if (!source || typeof Chart === "undefined") {
            return;
        }
        const data = JSON.parse(source.textContent);
        draw(data);
        new MutationObserver(() => redraw(data)).observe(document.documentElement, {
            attributes: true, attributeFilter: ["data-theme"],
        });
    });
})();
