// The side panel's js_on_load: clicks on any "#cite-..." link (the inline [n] markers in
// the chat, and the source cards) go to the server as this component's `click` event. The
// listener sits on `document` because the chat's links are rendered by the Chatbot, outside
// this component; it is re-registered (not stacked) if the component mounts again.
const handler = (event) => {
  const link = event.target.closest ? event.target.closest('a[href^="#cite-"]') : null;
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  if (window.askfrontOpenSheet) window.askfrontOpenSheet(link);
  trigger('click', {cite: link.getAttribute('href').slice('#cite-'.length)});
};
if (window.__askfrontCite) document.removeEventListener('click', window.__askfrontCite, true);
window.__askfrontCite = handler;
document.addEventListener('click', handler, true);
