"""UI strings in English and Chinese (one table, looked up by key)."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Stepping Stones assistant",
        "subtitle": "Answers about the working paper *Stepping stones for advancing nuclear "
                    "disarmament* and related NPT texts — every claim tied to a passage you can open. "
                    "Questions are answered in English or Chinese only.",
        "tab_ask": "Ask", "tab_orientation": "Orientation",
        "question": "Your question (English or 中文)",
        "placeholder": "e.g. What does the paper say about hotlines?",
        "send": "Ask", "clear": "New conversation",
        "sources": "Sources",
        "no_sources": "Cited passages appear here. Click a [n] in an answer to open it.",
        "filters": "Filters (apply to the next question)", "documents": "Documents",
        "language": "Passage language", "any": "any",
        "copy": "Answer with citations (plain text, to paste into a cable or draft)",
        "suggest": "The corpus does not cover that. Closest topics it does cover:",
        "feedback": "Comment on the last answer (optional)", "send_feedback": "Send feedback",
        "feedback_saved": "Thank you — feedback saved.",
        "followup": "Read as a follow-up to", "ui_language": "Interface language · 界面语言",
        "official": "official text", "rendering": "unofficial rendering",
        "note": "explanatory note (unofficial)", "user": "user-added document",
        "original": "Original (Chinese, official)", "english": "English (unofficial rendering)",
        "side_official": "Original ({language}, official)",
        "side_rendering": "{language} (unofficial rendering)",
        "side_note": "{language} (our explanatory note)", "lang_en": "English", "lang_zh": "Chinese",
        "ask_about": "Ask about this", "themes": "The 22 stepping stones, by theme",
        "glossary": "Glossary", "first_questions": "Good first questions",
        "about": "What the paper is",
    },
    "zh": {
        "title": "阶石助手",
        "subtitle": "关于工作文件《推进核裁军的阶石》及相关《不扩散条约》文本的问答——"
                    "每个说法都附有可打开的出处段落。仅回答英文或中文问题。",
        "tab_ask": "提问", "tab_orientation": "导览",
        "question": "您的问题（中文或 English）",
        "placeholder": "例如：文件对热线有什么建议？",
        "send": "提问", "clear": "新对话",
        "sources": "出处", "no_sources": "引用的段落显示在这里。点击回答中的 [n] 即可打开。",
        "filters": "筛选（用于下一个问题）", "documents": "文件",
        "language": "段落语言", "any": "不限",
        "copy": "带出处的回答（纯文本，可粘贴到电报或草稿中）",
        "suggest": "语料没有涉及这个问题。语料涵盖的最接近的主题：",
        "feedback": "对上一个回答的意见（可选）", "send_feedback": "提交反馈",
        "feedback_saved": "谢谢，反馈已保存。",
        "followup": "按追问理解，承接", "ui_language": "Interface language · 界面语言",
        "official": "正式文本", "rendering": "非正式译文",
        "note": "说明（非正式）", "user": "用户添加的文件",
        "original": "原文（中文，正式文本）", "english": "英文（非正式译文）",
        "side_official": "原文（{language}，正式文本）", "side_rendering": "{language}（非正式译文）",
        "side_note": "{language}（我们的说明）", "lang_en": "英文", "lang_zh": "中文",
        "ask_about": "就此提问", "themes": "22 个阶石（按主题）",
        "glossary": "术语表", "first_questions": "入门问题",
        "about": "这份文件是什么",
    },
}


def t(lang: str, key: str) -> str:
    """Return the UI string for a key in a language (English when missing)."""
    return STRINGS.get(lang, STRINGS["en"]).get(key) or STRINGS["en"][key]
