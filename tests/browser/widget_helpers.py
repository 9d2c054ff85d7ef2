"""What the live-figure tests share (tests/browser/test_widgets_*.py): open a widget, read its
drawing (a digest of its canvases), its readout table and its aria-live sentence, drive its controls
as a reader would (keyboard, typed values), and format numbers as the page does."""

from __future__ import annotations

import hashlib


def js_sig(v: float, digits: int = 4) -> str:
    """docs/playground/dom.js's sig(): `digits` significant digits, exponent outside [1e-3, 1e5)."""
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e5:
        text = repr(float(f"{v:.{digits}g}"))
        return text[:-2] if text.endswith(".0") else text
    mantissa, exponent = f"{v:.{digits - 1}e}".split("e")
    return f"{mantissa}e{'+' if int(exponent) >= 0 else '-'}{abs(int(exponent))}"


def open_widget(page, site_url: str, path: str, name: str, query: str = "", width: int = 1280):
    """Open `path` with `query`, wait until widget `name` is mounted; returns its root locator."""
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{site_url}{path}{query}")
    root = page.locator(f'.oe-widget[data-widget="{name}"]')
    root.wait_for(state="attached")
    page.wait_for_function(
        f"""() => {{ const r = document.querySelector('.oe-widget[data-widget="{name}"]');
                    return r && r.dataset.widgetState === 'ready'; }}""",
        timeout=20000,
    )
    root.scroll_into_view_if_needed()
    return root


def pixels(root) -> str:
    """A digest of every canvas of the widget (their pixels as PNG data)."""
    urls = root.evaluate("r => [...r.querySelectorAll('canvas')].map(c => c.toDataURL())")
    return hashlib.sha256("".join(urls).encode()).hexdigest()


def readout(root) -> dict[str, str]:
    """The readout table: {data-key: text}."""
    return root.evaluate(
        "r => Object.fromEntries([...r.querySelectorAll('.oe-w-readout tr[data-key]')]"
        ".map(tr => [tr.dataset.key, tr.querySelector('td').textContent]))"
    )


def summary(root) -> str:
    return root.locator(".oe-w-live").text_content()


def changes(root, action) -> None:
    """`action()` changes the widget's pixels, its readout and its aria-live summary."""
    before = (pixels(root), readout(root), summary(root))
    action()
    root.page.wait_for_timeout(50)
    after = (pixels(root), readout(root), summary(root))
    assert after[0] != before[0], "the drawing did not change"
    assert after[1] != before[1], f"the readout did not change: {after[1]}"
    assert after[2] != before[2], f"the summary did not change: {after[2]}"


def press(root, widget_id: str, key: str, keys: str) -> None:
    """Focus a slider's range input and press keys on it (keyboard access)."""
    root.locator(f"#oe-w-{widget_id}-{key}").focus()
    root.page.keyboard.press(keys)


def type_value(root, widget_id: str, key: str, value) -> None:
    """Type a value into a slider's number field and press Enter."""
    field = root.locator(f"#oe-w-{widget_id}-{key}-n")
    field.fill(str(value))
    field.press("Enter")


def no_overflow_and_dark(page, root) -> None:
    """At the current width nothing overflows the page; switching to dark mode redraws the canvas."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page overflows horizontally"
    box = root.bounding_box()
    assert box["width"] <= page.viewport_size["width"]
    before = pixels(root)
    page.evaluate("document.body.setAttribute('data-md-color-scheme', 'slate')")
    page.wait_for_timeout(50)
    assert pixels(root) != before, "dark mode did not redraw the widget"
