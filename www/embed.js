// logitlab's embed helper for the page that embeds the lab (course notes). Load it once:
//
//   <iframe data-logitlab src="https://your.course.site/logitlab/?embed=1&id=lab1"
//           width="100%" height="900" style="border:0" title="logitlab"></iframe>
//   <script src="https://your.course.site/logitlab/embed.js" defer></script>
//
// Each lab frame reports its content height ({ type: 'logitlab:height', height, id }) when it
// loads and whenever its layout changes; this script sets the frame's height to match. It
// accepts a message only from the frame it resizes (the message's source is that iframe's
// window, and its origin is the origin of the iframe's src), only a finite positive height, and
// reads nothing else. Without this script, frames keep their fixed height.
(() => {
  const MAX_HEIGHT = 100_000; // px: a bound on what a frame may ask for
  addEventListener('message', (event) => {
    const data = event.data;
    if (data === null || typeof data !== 'object' || data.type !== 'logitlab:height') return;
    const height = data.height;
    if (typeof height !== 'number' || !Number.isFinite(height) || height <= 0 || height > MAX_HEIGHT) return;
    for (const frame of document.querySelectorAll('iframe[data-logitlab]')) {
      if (frame.contentWindow !== event.source) continue;
      let origin;
      try { origin = new URL(frame.getAttribute('src'), document.baseURI).origin; } catch { continue; }
      if (event.origin !== origin) continue;
      frame.style.height = `${Math.ceil(height)}px`;
    }
  });
})();
