"""Measures every portal page at a phone's size (360 x 740) with the demo data in Debian's
chromium, and prints a table: the page's full height in CSS px and in screens, whether anything is
wider than the screen, how many rows the top menu takes, the smallest chart text, and where
Today's Start button ends (on the first screen when it ends by 740 px). PAGE_HEIGHTS_SHOTS=<dir>
also saves each page's full-length screenshot there.

    .venv/bin/python docs/page_heights.py

Like docs/screenshots.py it runs on its own throwaway database (docs/demo_site.py), so it never
touches var/. These are the figures the README's portal section quotes; rerun it after a layout
change and compare.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from demo_site import ARGS, CHROMIUM, demo_site, manage
from playwright.sync_api import sync_playwright

WIDTH, HEIGHT = 360, 740
# PAGE_HEIGHTS_SHOTS=/some/dir also saves each page's full-length screenshot there, to look at.
SHOTS = os.environ.get("PAGE_HEIGHTS_SHOTS")

# Everything measured in the page, in one evaluate: full height and width, the top bar's rows
# (distinct tops of its links and buttons), and the smallest rendered chart text (an SVG's font
# size times the scale its viewBox is drawn at).
MEASURE = """() => {
  const doc = document.documentElement;
  const bar = document.querySelector('.topbar');
  let rows = 0, barHeight = 0;
  if (bar) {
    // Rows: the links' and buttons' tops, those within 12 px of each other counted as one.
    const tops = [];
    bar.querySelectorAll('a, button').forEach(el => {
      const r = el.getBoundingClientRect();
      if (r.width) tops.push(r.top);
    });
    tops.sort((a, b) => a - b);
    rows = tops.filter((top, i) => i === 0 || top - tops[i - 1] > 12).length;
    barHeight = Math.round(bar.getBoundingClientRect().height);
  }
  let chartText = null;
  document.querySelectorAll('svg text').forEach(t => {
    const svg = t.ownerSVGElement, box = svg.viewBox.baseVal;
    const scale = box && box.width ? svg.getBoundingClientRect().width / box.width : 1;
    const h = parseFloat(getComputedStyle(t).fontSize) * scale;
    if (h && (chartText === null || h < chartText)) chartText = h;
  });
  const start = document.getElementById('timer-start');
  const startBox = start && start.offsetParent ? start.getBoundingClientRect() : null;
  return {height: doc.scrollHeight, width: doc.scrollWidth, rows, barHeight,
          startEnds: startBox ? Math.round(startBox.bottom + window.scrollY) : null,
          chartText: chartText === null ? null : Math.round(chartText * 10) / 10};
}"""


# The demo patient's latest walk, its next-morning pain not told yet (the demo logs carry it), so
# the next-morning page shows its question. Run after Today is measured: Today then asks it too.
FORGET_MORNING = (
    "from rehab.models import SessionLog; "
    "log = SessionLog.objects.filter(plan__patient__user__username='maria').latest('date'); "
    "SessionLog.objects.filter(pk=log.pk).update(pain_next_morning=None); print(log.pk)"
)


# Today differs on a walking day and on a rest day (a rest-day note comes first): measured on
# both by making every day one of maria's walking days for a moment, then putting hers back.
SCHEDULE = (
    "from rehab.models import Plan; "
    "plan = Plan.objects.get(patient__user__username='maria', status='active'); "
    "print(plan.schedule_days); "
    "Plan.objects.filter(pk=plan.pk).update(schedule_days={days})"
)


def main() -> None:
    rows = []
    with demo_site("retrowalk-heights-") as site:
        base, password, env = site.base, site.password, site.env
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            phone = browser.new_context(
                viewport={"width": WIDTH, "height": HEIGHT}, is_mobile=True, has_touch=True
            ).new_page()
            phone.goto(f"{base}/portal/login/")
            rows.append(("Sign-in", phone.evaluate(MEASURE)))
            phone.fill("input[name=username]", "maria")
            phone.fill("input[name=password]", password)
            phone.click("button[type=submit]")
            phone.wait_for_load_state()
            # The questionnaire: the first one due, else NPRS (always online).
            phone.goto(f"{base}/portal/progress/")
            due = phone.locator("a[href*='/portal/questionnaires/']")
            questionnaire = due.first.get_attribute("href") if due.count() else None
            pages = [
                ("Today", "/portal/"),
                ("Log a walk", "/portal/log/"),
                ("Next morning", "NEXT_MORNING"),
                ("My progress", "/portal/progress/"),
                ("Questionnaire", questionnaire or "/portal/questionnaires/nprs/"),
                ("Reminders", "/portal/reminders/"),
                ("Reports", "/portal/reports/"),
            ]
            for name, path in pages:
                if path == "NEXT_MORNING":
                    session = manage("shell", "--no-imports", "-c", FORGET_MORNING, env=env)
                    path = f"/portal/sessions/{session.strip()}/next-morning/"
                phone.goto(base + path)
                rows.append((name, phone.evaluate(MEASURE)))
                if path == "/portal/":
                    days = manage(
                        "shell", "--no-imports", "-c", SCHEDULE.format(days=list(range(7))), env=env
                    )
                    phone.goto(base + path)
                    rows.append((f"{name}, on a walking day", phone.evaluate(MEASURE)))
                    if SHOTS:
                        phone.screenshot(path=Path(SHOTS) / "today-walking-day.png", full_page=True)
                    manage(
                        "shell", "--no-imports", "-c", SCHEDULE.format(days=days.strip()), env=env
                    )
                if path == "/portal/log/":
                    # Answered, each scale also shows its chosen words: the page's tallest state.
                    for scale in ("pain_before", "pain_worst", "pain_after", "effort"):
                        phone.check(f"input[name={scale}][value='3']")
                    rows.append((f"{name}, answered", phone.evaluate(MEASURE)))
                if SHOTS:
                    phone.screenshot(
                        path=Path(SHOTS) / f"{name.lower().replace(' ', '-')}.png", full_page=True
                    )
            browser.close()
    print(
        f"Portal pages at {WIDTH} x {HEIGHT}, demo patient maria, on a {time.strftime('%A')}; "
        f"one screen = {HEIGHT} px\n"
    )
    print(
        "| Page | Height px | Screens | Wider than screen | Top bar rows "
        "| Smallest chart text px | Start button ends at px |"
    )
    print("|---|---:|---:|---|---:|---:|---:|")
    for name, m in rows:
        wide = f"yes ({m['width']} px)" if m["width"] > WIDTH else "no"
        chart = "" if m["chartText"] is None else f"{m['chartText']}"
        start = "" if m["startEnds"] is None else f"{m['startEnds']}"
        print(
            f"| {name} | {m['height']} | {m['height'] / HEIGHT:.1f} | {wide} "
            f"| {m['rows']} | {chart} | {start} |"
        )


if __name__ == "__main__":
    main()
