"""The portal on a 360 x 740 phone, measured in a real browser: Today's instructions and Start
button on the first screen, the log in at most three screens, 0-10 scales a thumb and a keyboard
can use, a top bar that does not leave "Sign out" alone, settings not cut off, charts whose
labels can be read. docs/page_heights.py prints the same figures for the demo clinic."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from rehab import services
from tests.factories import (
    ClinicianFactory,
    PatientFactory,
    UserFactory,
    builtin_protocol,
    clean_answers,
)

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 360, "height": 740}
SCREEN = PHONE["height"]
SCALES = ("pain_before", "pain_worst", "pain_after", "effort")


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": PHONE, "is_mobile": True, "has_touch": True}


@pytest.fixture
def plan(db):
    """A patient walking every day since three weeks ago, with a portal password."""
    clinician = ClinicianFactory(clinic__timezone="UTC")
    patient = PatientFactory(clinic=clinician.clinic, timezone="UTC")
    start = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=21)
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=start
    )
    plan = services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(patient.condition),
        actor=clinician.user,
        start_date=start,
        schedule_days=list(range(7)),
        today=start,
    )
    patient.user = UserFactory()  # password "pw"
    patient.save()
    return plan, patient.user


@pytest.fixture
def phone(plan, live_server, page, sign_in):
    _plan, user = plan
    sign_in(page, user.username, "pw", door="patients")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    return page


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not shown"
    return found


def page_height(page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


@pytest.fixture
def rest_day_phone(plan, live_server, page, sign_in):
    """The same patient on a rest day, walking three days a week as the levels ask."""
    the_plan, user = plan
    today = dt.datetime.now(dt.UTC).date()
    the_plan.schedule_days = sorted((today.weekday() + ahead) % 7 for ahead in (1, 3, 5))
    the_plan.save(update_fields=["schedule_days"])
    sign_in(page, user.username, "pw", door="patients")
    expect(page.get_by_role("heading", name="Today is a rest day")).to_be_visible()
    return page


@pytest.mark.parametrize("day", ["phone", "rest_day_phone"])
def test_today_shows_what_to_do_and_the_start_button_on_the_first_screen(day, request, axe_check):
    # On a walking day and on a rest day (when a walk done anyway can still be timed).
    phone = request.getfixturevalue(day)
    sentences = phone.locator(".prescription .sentences li")
    expect(sentences.first).to_be_visible()
    start = phone.get_by_role("button", name="Start")
    expect(start).to_be_visible()

    # The page has not scrolled: these are positions in the first 740 px.
    assert phone.evaluate("window.scrollY") == 0
    for index in range(sentences.count()):
        sentence = box(sentences.nth(index))
        assert sentence["y"] + sentence["height"] <= SCREEN, sentences.nth(index).inner_text()
    start_box = box(start)
    assert start_box["y"] + start_box["height"] <= SCREEN, f"Start ends at {start_box}"
    assert start_box["height"] >= 24
    assert start_box["width"] >= 24
    axe_check(phone)


def test_the_log_page_is_at_most_three_screens_even_when_answered(phone, live_server, axe_check):
    phone.goto(f"{live_server.url}/portal/log/")
    assert page_height(phone) <= 3 * SCREEN, f"{page_height(phone)} px"
    for name in SCALES:
        phone.check(f"input[name={name}][value='7']")
    # Each answered scale also says its number's words: the tallest state of the page.
    assert page_height(phone) <= 3 * SCREEN, f"{page_height(phone)} px answered"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    axe_check(phone)


def test_a_pain_scale_is_eleven_large_numbers_with_words(phone, live_server):
    phone.goto(f"{live_server.url}/portal/log/")
    scale = phone.locator("#id_pain_worst")
    steps = scale.locator(".scale-step")
    expect(steps).to_have_count(11)
    tops = set()
    for index in range(11):
        step = box(steps.nth(index))
        assert step["width"] >= 24, f"{index} is {step['width']} px wide"
        assert step["height"] >= 24
        tops.add(round(step["y"]))
    assert len(tops) == 1, "0 to 10 in one row"
    expect(scale.locator(".scale-anchors span")).to_have_text(
        ["no pain", "moderate", "worst imaginable"]
    )
    expect(scale.locator(".scale-chosen span:visible")).to_have_count(0)  # nothing chosen yet
    # Each number's accessible name carries its words.
    expect(scale.get_by_label("7 — severe")).to_have_count(1)
    expect(phone.locator("#id_effort").get_by_label("4 — somewhat hard")).to_have_count(1)

    # Tapping a number chooses it and says its words.
    steps.nth(3).tap()
    expect(scale.locator("input[value='3']")).to_be_checked()
    expect(scale.locator(".scale-chosen span:visible")).to_have_text("You chose 3 — mild")


def test_a_scale_is_operable_with_the_keyboard(phone, live_server):
    phone.goto(f"{live_server.url}/portal/log/")
    scale = phone.locator("#id_effort")
    scale.locator("input[value='2']").focus()
    phone.keyboard.press("Space")
    expect(scale.locator("input[value='2']")).to_be_checked()
    phone.keyboard.press("ArrowRight")
    expect(scale.locator("input[value='3']")).to_be_checked()
    expect(scale.locator("input[value='3']")).to_be_focused()
    expect(scale.locator(".scale-chosen span:visible")).to_have_text("You chose 3 — moderate")
    # The focus is shown around the number (a 3 px outline), not on an invisible radio.
    outline = (
        scale.locator(".scale-step").nth(3).evaluate("el => getComputedStyle(el).outlineStyle")
    )
    assert outline == "solid"


def test_every_place_to_walk_is_shown_whole(phone, plan, live_server):
    # At the last level (overground) every place is one the plan allows, the longest label
    # ("treadmill, one hand or light touch") among them.
    the_plan, _user = plan
    services.plan_set_level(
        plan=the_plan, level=len(the_plan.levels) - 1, actor=None, reason="Walks well"
    )
    phone.goto(f"{live_server.url}/portal/log/")
    options = phone.locator("#id_setting label")
    assert options.count() == 4
    for index in range(options.count()):
        option = options.nth(index)
        fits = option.evaluate(
            "el => el.scrollWidth <= el.clientWidth && el.getBoundingClientRect().right <= 360"
        )
        assert fits, option.inner_text()
        assert box(option)["height"] >= 24
    expect(
        options.filter(has_text="Treadmill, one hand or light touch on the rail")
    ).to_be_visible()


def test_the_top_bar_is_two_rows_with_sign_out_beside_the_name(phone):
    brand = box(phone.locator(".topbar .brand"))
    sign_out = box(phone.get_by_role("button", name="Sign out"))
    links = [
        box(phone.get_by_role("link", name=name, exact=True))
        for name in ("Today", "My progress", "Reminders")
    ]
    # "Sign out" shares the first row with the name; the three pages share the second.
    assert abs((sign_out["y"] + sign_out["height"] / 2) - (brand["y"] + brand["height"] / 2)) < 8
    assert len({round(link["y"]) for link in links}) == 1
    assert links[0]["y"] > brand["y"] + brand["height"] / 2
    assert sign_out["height"] >= 24
    assert all(link["height"] >= 24 for link in links)
    bar = box(phone.locator(".topbar"))
    assert bar["height"] <= 100, f"the top bar takes {bar['height']} px"


def test_chart_labels_are_at_least_12_px_on_the_phone(plan, phone, live_server, axe_check):
    walking_plan, _user = plan
    today = dt.datetime.now(dt.UTC).date()
    for days_ago in (20, 13, 6, 1):
        day = today - dt.timedelta(days=days_ago)
        services.session_log(
            plan=walking_plan,
            actor=None,
            date=day,
            today=day,
            minutes_done=10,
            pain_before=2,
            pain_worst=3,
            pain_after=2,
            effort=3,
            setting=walking_plan.current_prescription().level.setting,
        )
    phone.goto(f"{live_server.url}/portal/progress/")
    expect(phone.locator("figure.chart svg")).to_have_count(3)
    smallest = phone.evaluate(
        """() => Math.min(...[...document.querySelectorAll('figure.chart svg text')].map(t => {
            const svg = t.ownerSVGElement;
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            return parseFloat(getComputedStyle(t).fontSize) * scale;
        }))"""
    )
    assert smallest >= 12, f"the smallest chart text is {smallest:.1f} px"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    axe_check(phone)


@pytest.mark.parametrize("path", ["/portal/", "/portal/log/"])
def test_at_200_percent_zoom_nothing_scrolls_sideways(phone, live_server, path):
    """WCAG 1.4.10 reflow: a 360 px phone at 200 % zoom is 180 CSS px wide; the 0-10 row then
    wraps to two rows instead of pushing the page sideways."""
    phone.set_viewport_size({"width": 180, "height": 370})
    phone.goto(live_server.url + path)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 180
    step = box(phone.locator("#id_pain_before .scale-step").first)
    assert step["width"] >= 24
