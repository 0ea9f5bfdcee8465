"""Takes the README's screenshots from the demo clinic in Debian's chromium: `make screenshots`.

Runs on its own throwaway database (docs/demo_site.py), so it never touches var/.
"""

from __future__ import annotations

from demo_site import ARGS, CHROMIUM, ROOT, demo_site, sign_in
from playwright.sync_api import sync_playwright

OUT = ROOT / "docs" / "screenshots"


def main() -> None:
    with demo_site("retrowalk-shots-") as site:
        base, password = site.base, site.password
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            desk = browser.new_page(viewport={"width": 1280, "height": 1000})
            sign_in(desk, base, "clinic", "hughes", password)
            desk.goto(f"{base}/clinic/")
            desk.screenshot(path=OUT / "dashboard-today.png", full_page=False)
            # The patient at the top of the list, the one who needs attention first: an emergency
            # referral not yet acted on, its banner at the top of the page.
            desk.locator("table a[href*='/clinic/patients/']").first.click()
            desk.wait_for_load_state()
            desk.screenshot(path=OUT / "dashboard-patient.png", full_page=False)
            phone = browser.new_context(
                # A small phone's screen (360 x 740): the one the portal is designed and tested for.
                viewport={"width": 360, "height": 740},
                device_scale_factor=2,
                is_mobile=True,
            ).new_page()
            sign_in(phone, base, "portal", "maria", password)
            phone.goto(f"{base}/portal/")
            phone.screenshot(path=OUT / "portal-today.png", full_page=False)
            phone.goto(f"{base}/portal/log/")
            phone.screenshot(path=OUT / "portal-log.png", full_page=False)
            phone.goto(f"{base}/portal/progress/")
            phone.screenshot(path=OUT / "portal-progress.png", full_page=False)
            browser.close()
    for name in sorted(OUT.glob("*.png")):
        print(name.relative_to(ROOT))


if __name__ == "__main__":
    main()
