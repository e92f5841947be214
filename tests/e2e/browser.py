"""Drive the service in real Chromium the way its users do, checking every page on the way.

A `Journey` wraps one Playwright page. Each step finds controls by their accessible
role and label, so a control without a proper label fails the test as well as axe.
The same journey code runs with the mouse or with the keyboard alone (Tab, Shift+Tab,
Enter, Space and arrow keys, never a click), and with JavaScript on or off.
"""

import datetime
import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
# What a test user signs in with (tests/factories.py UserFactory).
PASSWORD = "correct horse battery staple"
# Impacts that fail a page; "minor" and "moderate" findings are reported, not fatal.
BLOCKING_IMPACTS = {"serious", "critical"}
# A control further than this many Tab presses away is a keyboard trap or a missing control.
MAX_TABS = 250
_axe = Axe()


def give_authenticator_app(user):
    """A confirmed TOTP device, as if the user had set up their authenticator app."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="Authenticator app", confirmed=True
    )


def security_code(user):
    """The code the user's authenticator app shows now (or next, if this one was just used)."""
    from django_otp.oath import TOTP, totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user, confirmed=True)
    # A code is accepted once only: a second sign-in in the same 30 seconds takes the next one.
    now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()
    drift = device.drift + (1 if device.last_t >= now else 0)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):0{device.digits}d}"


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class AccessibilityViolation(AssertionError):
    pass


class Journey:
    def __init__(self, page: Page, name: str, *, base_url: str, keyboard=False, axe_page: Page | None = None):
        self.page = page
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.keyboard = keyboard
        # With JavaScript off axe cannot run in the page itself; the same markup is checked
        # in a second page that has scripting on but loads none of the service's scripts.
        self.axe_page = axe_page
        self.steps = 0
        self.checked = []
        self.folder = SCREENSHOTS / slug(name)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in [*self.folder.glob("*.png"), *self.folder.glob("*.txt")]:
            old.unlink()

    # Pages ---------------------------------------------------------------------------------

    def visit(self, path):
        """Type an address into the browser (keyboard users do this too)."""
        response = self.page.goto(self.base_url + path)
        return response

    def checkpoint(self, title):
        """The page is complete: no serious or critical axe-core violations; keep a screenshot."""
        self.page.wait_for_load_state("load")
        self.steps += 1
        self.page.screenshot(path=self.folder / f"{self.steps:02d}-{slug(title)}.png", full_page=True)
        results = self._run_axe()
        blocking = [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]
        self.checked.append((title, self.page.url))
        findings = [f"{v['id']} ({v['impact']}): {v['help']}" for v in results["violations"]]
        if findings:  # lesser findings are kept for a person to read, next to the screenshots
            with open(self.folder / "axe-findings.txt", "a", encoding="utf-8") as report:
                report.write(f"{self.steps:02d} {title} {self.page.url}\n" + "".join(f"  {f}\n" for f in findings))
        if blocking:
            lines = [f"{title} ({self.page.url}) fails axe-core:"]
            for violation in blocking:
                lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
                lines.extend(f"    {node['html'][:200]}" for node in violation["nodes"][:5])
            raise AccessibilityViolation("\n".join(lines))

    def _run_axe(self):
        if self.axe_page is None:
            return _axe.run(self.page).response
        html = re.sub(r"<script\b.*?</script>", "", self.page.content(), flags=re.S | re.I)
        url = self.page.url

        def serve_snapshot(route):
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

        self.axe_page.route(url, serve_snapshot)
        try:
            self.axe_page.goto(url)
            self.axe_page.wait_for_load_state("load")
            return _axe.run(self.axe_page).response
        finally:
            self.axe_page.unroute(url, serve_snapshot)

    def expect_heading(self, name, level=1):
        expect(self.page.get_by_role("heading", level=level, name=name)).to_be_visible()

    def expect_success(self, text):
        banner = self.page.get_by_role("alert").filter(has_text="Success")
        expect(banner).to_contain_text(text)

    # Sign-in -------------------------------------------------------------------------------

    def sign_in(self, user, *, start="/"):
        """Password, then the security code from the user's authenticator app."""
        self.visit(start)
        self.expect_heading("Sign in")
        self.checkpoint("sign in")
        self.fill("Username", user.username)
        self.fill("Password", PASSWORD)
        self.press("Sign in")
        self.expect_heading("Enter your security code")
        self.checkpoint("security code")
        self.fill("Security code", security_code(user))
        self.press("Continue")

    # Controls ------------------------------------------------------------------------------

    def field(self, label, within: Locator | None = None):
        return (within or self.page).get_by_label(label, exact=True)

    def fill(self, label, value, within: Locator | None = None):
        target = self.field(label, within)
        if self.keyboard:
            self.tab_to(target)
            self.page.keyboard.press("ControlOrMeta+a")
            self.page.keyboard.press("Delete")
            self.page.keyboard.type(value)
        else:
            target.fill(value)
        expect(target).to_have_value(value)

    def fill_date(self, legend, date: datetime.date):
        """A GOV.UK date input: day, month and year boxes inside a fieldset."""
        group = self.page.get_by_role("group", name=legend)
        self.fill("Day", str(date.day), within=group)
        self.fill("Month", str(date.month), within=group)
        self.fill("Year", str(date.year), within=group)

    def fill_datetime(self, label, moment: datetime.datetime):
        """A native date-and-time input."""
        target = self.field(label)
        moment = timezone.localtime(moment) if timezone.is_aware(moment) else moment
        if self.keyboard:
            self.tab_to(target)
            # Chromium lays the parts out in its interface language (en-US here, whatever the page's):
            # month, day, year, then a 12-hour time with AM or PM.
            parts = (f"{moment:%m}", f"{moment:%d}", f"{moment:%Y}", "ArrowRight", f"{moment:%I}", f"{moment:%M}",
                     "A" if moment.hour < 12 else "P")
            for keys in parts:
                if keys.isdigit():
                    self.page.keyboard.type(keys)
                else:
                    self.page.keyboard.press(keys)
        else:
            target.fill(f"{moment:%Y-%m-%dT%H:%M}")
        expect(target).to_have_value(f"{moment:%Y-%m-%dT%H:%M}")

    def choose(self, label, within: Locator | None = None):
        """Select a radio button."""
        target = (within or self.page).get_by_role("radio", name=label, exact=True)
        if self.keyboard:
            group = target.get_attribute("name")
            # Tab lands on the checked radio of a group (or its first one); arrows move and select.
            self.tab_to(target, accept=f"el => el.type === 'radio' && el.name === {group!r}")
            for _ in range(20):
                if self._focused(target):
                    break
                self.page.keyboard.press("ArrowDown")
            if not target.is_checked():
                self.page.keyboard.press("Space")
        else:
            target.check()
        expect(target).to_be_checked()

    def tick(self, label, within: Locator | None = None):
        target = (within or self.page).get_by_role("checkbox", name=label, exact=True)
        if self.keyboard:
            self.tab_to(target)
            if not target.is_checked():
                self.page.keyboard.press("Space")
        else:
            target.check()
        expect(target).to_be_checked()

    def select(self, label, option, within: Locator | None = None):
        """Pick an option of a drop-down list by its visible text."""
        target = self.field(label, within)
        if self.keyboard:
            self.tab_to(target)
            options = target.evaluate("el => Array.from(el.options, o => o.text.trim())")
            wanted = options.index(option)
            current = target.evaluate("el => el.selectedIndex")
            key = "ArrowDown" if wanted > current else "ArrowUp"
            for _ in range(abs(wanted - current)):
                self.page.keyboard.press(key)
        else:
            target.select_option(label=option)
        expect(target.locator("option:checked")).to_have_text(option)

    def press(self, name, within: Locator | None = None):
        """Press a button."""
        target = (within or self.page).get_by_role("button", name=name, exact=True)
        self._activate(target)

    def follow(self, name, within: Locator | None = None, exact=True):
        """Follow a link."""
        target = (within or self.page).get_by_role("link", name=name, exact=exact)
        self._activate(target)

    def _activate(self, target: Locator):
        if self.keyboard:
            self.tab_to(target)
            self.page.keyboard.press("Enter")
        else:
            target.click()
        self.page.wait_for_load_state("load")

    # Keyboard ------------------------------------------------------------------------------

    def _focused(self, target: Locator):
        return target.evaluate("el => el === document.activeElement")

    def tab_to(self, target: Locator, accept=None):
        """Press Tab until the control has focus, as a keyboard user would."""
        expect(target).to_be_visible()
        check = accept or "el => el === document.activeElement"
        handle = target.element_handle()
        for _ in range(MAX_TABS):
            if accept is None:
                if self._focused(target):
                    return
            elif self.page.evaluate(f"({check})(document.activeElement)"):
                return
            self.page.keyboard.press("Tab")
        raise AssertionError(f"Could not reach {handle.evaluate('el => el.outerHTML')[:200]} with the Tab key")

    # Error summary -------------------------------------------------------------------------

    def follow_error(self, message, field: Locator):
        """The GOV.UK error summary lists the error; its link takes focus to the field."""
        summary = self.page.locator(".govuk-error-summary")
        expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
        link = summary.get_by_role("link", name=message)
        expect(link).to_be_visible()
        if self.keyboard:
            self.tab_to(link)
            self.page.keyboard.press("Enter")
        else:
            link.click()
        expect(field).to_be_focused()
