/*
 * Videos placed by `!figure[NAME](...)` (docs/hooks/figures.py) carry data-autoplay="visible":
 * they play, muted and looping, while at least half of them is on screen, and pause when they
 * leave it. Never under prefers-reduced-motion (the reader starts them with the controls), and
 * never again after the reader paused one. Runs on every page through Material's `document$`
 * (first load and every instant navigation).
 */
(function () {
  "use strict";

  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  let observer = null;

  function play(video) {
    video.dataset.autoplaying = "true";
    // play() rejects when a pause() interrupts it (scrolling fast): not an error for us
    video.play().catch(() => {});
  }

  function pause(video) {
    video.dataset.autoplaying = "false";
    video.pause();
  }

  function onVisibility(entries) {
    for (const { target: video, isIntersecting } of entries) {
      if (video.dataset.userPaused === "true" || reducedMotion.matches) continue;
      if (isIntersecting && video.paused) play(video);
      else if (!isIntersecting && !video.paused) pause(video);
    }
  }

  function setUp() {
    if (observer) observer.disconnect();
    observer = new IntersectionObserver(onVisibility, { threshold: 0.5 });
    document.querySelectorAll('video[data-autoplay="visible"]').forEach((video) => {
      // a pause the reader asked for (not ours) turns autoplay off for this video
      video.addEventListener("pause", () => {
        if (video.dataset.autoplaying !== "false" && !video.ended) video.dataset.userPaused = "true";
      });
      video.addEventListener("play", () => { video.dataset.autoplaying = "true"; });
      observer.observe(video);
    });
  }

  // Posters: a video with a dark variant carries data-poster-light/-dark instead of a poster (which
  // would be fetched at once whatever the theme); set the one of the reader's theme, and again when
  // the palette toggle changes body[data-md-color-scheme].
  function setPosters() {
    const dark = document.body.getAttribute("data-md-color-scheme") === "slate";
    document.querySelectorAll("video[data-poster-light]").forEach((video) => {
      const want = dark ? video.dataset.posterDark : video.dataset.posterLight;
      if (video.getAttribute("poster") !== want) video.setAttribute("poster", want);
    });
  }

  new MutationObserver(setPosters).observe(document.body, {
    attributes: true, attributeFilter: ["data-md-color-scheme"],
  });

  document$.subscribe(() => { setPosters(); setUp(); });
})();
