"""The page's own CSS and JavaScript (Gradio supplies the rest)."""

from __future__ import annotations

import json

from assistant.ui.strings import t

CSS = """
.src { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 10px; margin: 8px 0; }
.src.active { border-color: #0969da; box-shadow: 0 0 0 2px #0969da55; }
.src-head { font-size: 0.95em; } .src-n { color: #0969da; font-weight: 600; }
.src-meta { color: #57606a; font-size: 0.85em; margin: 2px 0 6px; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.pair .lbl { font-size: 0.75em; color: #57606a; text-transform: uppercase; }
.kind { padding: 0 5px; border-radius: 4px; background: #eef; }
.kind-official { background: #dafbe1; } .kind-rendering, .kind-note { background: #fff8c5; }
mark { background: #fff3a3; } .turn summary { cursor: pointer; color: #57606a; }
.stone { margin: 6px 0 2px; } .stone-n { font-weight: 600; }
body, .gradio-container { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans",
  "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; }
/* Gradio dims chat text (opacity 0.8 on grey): answers are read and pasted, so full ink. */
#chat .prose, #chat .message-content { opacity: 1 !important; color: #1f2328 !important; }
#chat .bot.message { background: #ffffff; }
#chat blockquote { color: #1f2328; border-left-color: #8c959f; }
/* Suggested topics and first questions are whole labels, wrapped, never cut short. */
button.topic, button.first-question { white-space: normal; text-align: left;
  justify-content: flex-start; height: auto; width: auto; align-self: flex-start; }
.gloss-count { color: #57606a; font-size: 0.85em; margin: 4px 0; }
table.glossary { width: 100%; table-layout: fixed; border-collapse: collapse; font-size: 0.95em; }
table.glossary th, table.glossary td { text-align: left; vertical-align: top; padding: 4px 8px;
  border-bottom: 1px solid #d0d7de; overflow-wrap: anywhere; font-family: inherit; }
table.glossary th { background: #f6f8fa; font-weight: 600; }
table.glossary th:nth-child(1) { width: 42%; } table.glossary th:nth-child(2) { width: 29%; }
"""

# Citation links open their passage in the sources panel instead of navigating away. The
# language switch also sets the page's `lang` (it picks Chinese or Latin glyphs for shared
# characters), its title, and the locale of Gradio's own strings ("Drop File Here", "Use via
# API"), which Gradio takes from the browser: its svelte-i18n locale store is found among the
# page's loaded modules (the exported store whose value is a locale code) and set.
_JS = """
() => {
  const WORDS = __WORDS__;
  let gradioLocale = null;
  const findGradioLocale = async () => {
    const urls = performance.getEntriesByType('resource').map((e) => e.name)
      .filter((name) => name.endsWith('.js') && name.includes('/assets/'));
    for (const url of urls) {
      let module;
      try { module = await import(url); } catch (e) { continue; }
      for (const value of Object.values(module)) {
        if (!value || typeof value !== 'object' || typeof value.subscribe !== 'function'
            || typeof value.set !== 'function') continue;
        let current;
        const stop = value.subscribe((v) => { current = v; });
        if (typeof stop === 'function') stop();
        if (typeof current === 'string' && /^[a-z]{2}(-[A-Za-z]{2,4})?$/.test(current)) return value;
      }
    }
    return null;
  };
  window.nptLanguage = async (choice) => {
    const lang = choice === '中文' ? 'zh' : 'en';
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = WORDS[lang].title;
    gradioLocale = gradioLocale || await findGradioLocale();
    if (gradioLocale) gradioLocale.set(lang === 'zh' ? 'zh-CN' : 'en');
  };
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a[href^="#src-"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const target = document.getElementById(link.getAttribute('href').slice(1));
    if (!target) return;
    const fold = target.closest('details');
    if (fold) fold.open = true;
    document.querySelectorAll('.src.active').forEach((el) => el.classList.remove('active'));
    target.classList.add('active');
    target.scrollIntoView({block: 'nearest'});
  }, true);
}
"""

# Run after the interface language changes (the radio's value is the argument).
SWITCH_JS = "(choice) => { window.nptLanguage && window.nptLanguage(choice); }"
# Run when a question from Orientation opens the Ask tab: it opens at its top, not wherever
# the long Orientation page was scrolled to.
TO_TOP_JS = "() => { window.scrollTo({top: 0}); }"


def page_js() -> str:
    """Return the script Gradio runs once the page has loaded."""
    words = {lang: {"title": t(lang, "title")} for lang in ("en", "zh")}
    return _JS.replace("__WORDS__", json.dumps(words, ensure_ascii=False))
