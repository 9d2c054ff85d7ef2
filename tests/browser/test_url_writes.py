"""A playground or a live figure writes its state into the URL's query a moment after each change
(150 ms and 250 ms). Material's instant navigation changes the URL before it swaps the page, so a
write still pending when the reader follows a link landed on the next page's URL, whose playground
then opened the previous page's state. Each check here makes a change, moves the URL to another
page's path at once (as Material does), and waits past the delay: the new URL must keep no query.
(Against the code before the fix, docs/playground/playground.js and docs/widgets/kit.js, both fail.)"""

from __future__ import annotations

LEAVE = "(path) => window.history.pushState(window.history.state, '', path)"


def wait_and_read_url(page) -> tuple[str, str]:
    page.wait_for_timeout(600)  # past either delay: a late write would have arrived
    return page.evaluate("() => [window.location.pathname, window.location.search]")


def test_a_playground_write_pending_when_the_reader_leaves_stays_off_the_next_page(page, site_url):
    page.emulate_media(reduced_motion="reduce")
    page.goto(site_url)
    page.wait_for_function("() => document.querySelector('.oe-playground')?.oePlayground?.results?.length > 0")
    play = page.locator(".oe-playground button.oe-pg-play")
    play.click()  # plays from step 0 ...
    page.wait_for_function("() => document.querySelector('.oe-playground').oePlayground.playing")
    # ... paused: the step is a change of state, its URL write pending; the reader leaves in the same task
    page.evaluate("""(path) => { document.querySelector('.oe-playground button.oe-pg-play').click();
                                 window.history.pushState(window.history.state, '', path); }""", "/comparing/")
    assert wait_and_read_url(page) == ["/comparing/", ""]
    # the same change without leaving is written (so the check above is not vacuous)
    page.evaluate(LEAVE, "/")
    play.click()
    page.wait_for_function("() => document.querySelector('.oe-playground').oePlayground.playing")
    play.click()
    path, query = wait_and_read_url(page)
    assert path == "/" and "t=" in query, (path, query)


def test_a_live_figure_write_pending_when_the_reader_leaves_stays_off_the_next_page(page, site_url):
    page.goto(f"{site_url}sgd-momentum/")
    page.wait_for_function("() => document.querySelector('.oe-widget[data-widget=\"momentum\"]')?.dataset.widgetState === 'ready'")
    page.evaluate("""(path) => { const range = document.querySelector('.oe-widget[data-widget="momentum"] input[type=range]');
                                 range.stepUp(); range.dispatchEvent(new Event('input', {bubbles: true}));
                                 window.history.pushState(window.history.state, '', path); }""", "/adam/")
    assert wait_and_read_url(page) == ["/adam/", ""]
    # the same change without leaving is written (so the check above is not vacuous)
    page.evaluate(LEAVE, "/sgd-momentum/")
    page.evaluate("""() => { const range = document.querySelector('.oe-widget[data-widget="momentum"] input[type=range]');
                             range.stepUp(); range.dispatchEvent(new Event('input', {bubbles: true})); }""")
    path, query = wait_and_read_url(page)
    assert path == "/sgd-momentum/" and query.startswith("?w-momentum-"), (path, query)
