() => {
  // The page's own behaviour, run once when the page loads (launch(js=...)).
  if (window.__askfrontPage) return;
  window.__askfrontPage = true;
  const closest = (event, selector) =>
    event.target && event.target.closest ? event.target.closest(selector) : null;

  // Hovering or focusing an [n] previews its passage. The passage travels in the link's
  // title (the Chatbot's sanitizer keeps it); it moves to data-preview so that the
  // browser's own tooltip does not show as well.
  const tip = document.createElement('div');
  tip.id = 'af-preview';
  tip.setAttribute('role', 'tooltip');
  tip.hidden = true;
  document.body.appendChild(tip);
  const show = (link) => {
    const text = link.dataset.preview || link.getAttribute('title');
    if (!text) return;
    link.dataset.preview = text;
    link.removeAttribute('title');
    link.setAttribute('aria-describedby', 'af-preview');
    tip.textContent = text;
    tip.hidden = false;
    const r = link.getBoundingClientRect();
    const width = Math.min(380, window.innerWidth - 16);
    tip.style.maxWidth = width + 'px';
    tip.style.left = Math.max(8, Math.min(r.left, window.innerWidth - width - 8)) + 'px';
    const below = r.bottom + 6;
    const fits = below + tip.offsetHeight < window.innerHeight;
    tip.style.top = (fits ? below : Math.max(8, r.top - tip.offsetHeight - 6)) + 'px';
  };
  const hide = () => { tip.hidden = true; };
  document.addEventListener('mouseover', (e) => { const l = closest(e, 'a.af-n'); if (l) show(l); });
  document.addEventListener('mouseout', (e) => { if (closest(e, 'a.af-n')) hide(); });
  document.addEventListener('focusin', (e) => { const l = closest(e, 'a.af-n'); if (l) show(l); else hide(); });
  document.addEventListener('scroll', hide, true);

  // Copy answer: the plain text the server rendered beside the button ([n] markers and a
  // numbered source list), not the message's markup.
  document.addEventListener('click', async (e) => {
    const button = closest(e, 'button.af-copy');
    if (!button) return;
    e.preventDefault();
    e.stopPropagation();
    const text = button.parentElement.querySelector('.af-plain').textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch (err) {  // no clipboard permission (plain http on another host): the old way
      const area = document.createElement('textarea');
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    button.textContent = 'Copied';
    setTimeout(() => { button.textContent = 'Copy answer'; }, 1500);
  }, true);

  // The matching-articles table of a collection answer: a header sorts by its column
  // (dates by their ISO day in data-key; undated last), again to reverse.
  document.addEventListener('click', (e) => {
    const button = closest(e, 'button.af-sort');
    if (!button) return;
    const th = button.parentElement;
    const table = th.closest('table');
    const col = Number(button.dataset.col);
    const up = th.getAttribute('aria-sort') !== 'ascending';
    const key = (row) => {
      const cell = row.cells[col];
      return cell.dataset.key !== undefined ? cell.dataset.key : cell.textContent.trim().toLowerCase();
    };
    const body = table.tBodies[0];
    const rows = Array.from(body.rows).sort((a, b) => {
      const x = key(a), y = key(b);
      if (!x || !y) return x ? -1 : y ? 1 : 0;  // empty (undated) last either way
      return up ? x.localeCompare(y) : y.localeCompare(x);
    });
    rows.forEach((row) => body.appendChild(row));
    table.querySelectorAll('th').forEach((h) => h.setAttribute('aria-sort', 'none'));
    th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
  });

  // Phones: the side panel is a bottom sheet that opens on a citation; "Back to the answer"
  // (or Escape) closes it and puts the focus back on the [n] that opened it.
  const phone = window.matchMedia('(max-width: 768px)');
  let opener = null;
  // Back cannot take the focus while the sheet is still hidden (its transition), and
  // Gradio's re-render when the passage arrives can drop it; on a busy machine both
  // outlast any fixed delay. So try each frame, a bounded number of times, from the
  // opening and again once the viewer shows the passage (askfrontSheetShown), until the
  // reader presses a key or taps: their own move wins.
  let wantBack = false;
  let frames = 0;
  const focusBack = () => {
    const sheet = document.querySelector('#side-panel');
    const back = document.querySelector('#back-to-answer');
    if (!wantBack || !sheet || !sheet.classList.contains('af-open') || !back) return;
    if (document.activeElement !== back) back.focus({preventScroll: true});
    if (document.activeElement !== back && frames++ < 600) requestAnimationFrame(focusBack);
  };
  const retryBack = () => { frames = 0; requestAnimationFrame(focusBack); };
  for (const type of ['keydown', 'pointerdown']) {
    document.addEventListener(type, () => { wantBack = false; }, true);
  }
  window.askfrontOpenSheet = (link) => {
    if (!phone.matches) return;
    opener = link;
    const sheet = document.querySelector('#side-panel');
    if (sheet) sheet.classList.add('af-open');
    wantBack = true;
    retryBack();
  };
  window.askfrontSheetShown = () => { if (wantBack) retryBack(); };
  window.askfrontCloseSheet = () => {
    wantBack = false;
    const sheet = document.querySelector('#side-panel');
    if (!sheet || !sheet.classList.contains('af-open')) return;
    sheet.classList.remove('af-open');
    if (opener && opener.isConnected) opener.focus({preventScroll: true});
    opener = null;
  };
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { hide(); window.askfrontCloseSheet(); }
  });

  // Names Gradio's own markup lacks (axe-core's scan, tests/test_accessibility_browser.py),
  // set again whenever Gradio re-renders: the date pickers' calendar buttons and inputs,
  // the sidebar's toggle, the upload area (its label left out its visible words) and the
  // chat's examples (a role="list" of buttons, which no list may hold).
  const named = (el, name) => { if (el && el.getAttribute('aria-label') !== name) el.setAttribute('aria-label', name); };
  const fixNames = () => {
    for (const [id, which] of [['date-from', 'From date'], ['date-to', 'To date']]) {
      const box = document.getElementById(id);
      if (!box) continue;
      named(box.querySelector('input.time'), which + ' (YYYY-MM-DD)');
      named(box.querySelector('button.calendar'), which + ': pick from a calendar');
    }
    named(document.querySelector('#settings .toggle-button'), 'Settings');
    document.querySelectorAll('.upload-container[aria-label]').forEach((el) => el.removeAttribute('aria-label'));
    document.querySelectorAll('#chat .examples[role="list"]').forEach((el) => el.removeAttribute('role'));
  };
  let pending = false;
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; fixNames(); });
  }).observe(document.body, {childList: true, subtree: true});
  fixNames();
}
