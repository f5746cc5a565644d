// The viewer's js_on_load: bring the highlighted passage into the middle of the article's
// own box, when the viewer mounts (the Document tab mounts it when first shown, already
// holding its document) and whenever it shows a new one. Only that box scrolls:
// scrollIntoView would scroll the page too, and the question box out of sight. The tab
// may become visible a frame after the new value arrives: this waits for a height.
const place = (tries) => {
  const box = element.querySelector('.af-doc-text');
  const mark = element.querySelector('#cite-mark');
  if (!box || !mark) return;
  if (box.clientHeight === 0 && tries < 60) {
    requestAnimationFrame(() => place(tries + 1));
    return;
  }
  box.scrollTop = mark.offsetTop - (box.clientHeight - mark.offsetHeight) / 2;
  if (window.askfrontSheetShown) window.askfrontSheetShown();  // phones: Back takes focus
};
requestAnimationFrame(() => place(0));
watch('value', () => requestAnimationFrame(() => place(0)));
