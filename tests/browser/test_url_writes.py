"""A playground or a live figure writes its state into the URL's query a moment after each change
(150 ms and 250 ms). Material's instant navigation changes the URL before it swaps the page, so a
write still pending when the reader followed a link landed on the next page's URL, whose playground
then opened the previous page's state. Each check (tests/browser/page_checks.py) makes a change, moves
the URL to another page's path at once (as Material does), and waits past the delay: the new URL must
keep no query. (Against the code before the fix, docs/playground/playground.js and
docs/widgets/kit.js, both fail.)

A page load is most of a browser test's CPU, so the checks run on loads made anyway: the live
figure's on test_pages.py's first load of its page (test_page), the playground's here, on a load of
the home page under prefers-reduced-motion (the playground does not play by itself), which also
checks that no video autoplays under it when the home page is the first page with such a video.
"""

from __future__ import annotations

from page_checks import (
    check_a_playground_write_pending_when_the_reader_leaves_stays_off_the_next_page,
    check_videos_do_not_autoplay_under_reduced_motion,
)
from site_helpers import first_page_with


def test_reduced_motion_keeps_videos_paused_and_a_pending_playground_write_stays_off_the_next_page(
        open_page, site_url):
    """The home page under prefers-reduced-motion: a visible video stays paused (on a load of its own
    when the first page with an autoplaying video is not the home page), then the playground check."""
    page = open_page(reduced_motion="reduce")
    page.goto(site_url)
    video_page = first_page_with('data-autoplay="visible"')
    if video_page == "":
        check_videos_do_not_autoplay_under_reduced_motion(page)
    else:
        elsewhere = open_page(reduced_motion="reduce")
        elsewhere.goto(site_url + video_page)
        check_videos_do_not_autoplay_under_reduced_motion(elsewhere)
    check_a_playground_write_pending_when_the_reader_leaves_stays_off_the_next_page(page, "")
