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
        "suggest": "Ask about a nearby topic instead:",
        "feedback": "Comment on the last answer (optional)", "send_feedback": "Send feedback",
        "feedback_saved": "Thank you — feedback saved.",
        "followup": "Read as a follow-up to", "ui_language": "Interface language",
        "official": "official text", "rendering": "unofficial rendering",
        "note": "explanatory note (unofficial)", "user": "user-added document",
        "original": "Original (Chinese, official)", "english": "English (unofficial rendering)",
        "side_official": "Original ({language}, official)",
        "side_rendering": "{language} (unofficial rendering)",
        "side_note": "{language} (our explanatory note)", "lang_en": "English", "lang_zh": "Chinese",
        "ask_about": "Ask about this ({n})", "themes": "The 22 stepping stones, by theme",
        "glossary": "Glossary", "first_questions": "Good first questions",
        "about": "What the paper is",
        "closest": "The closest topics it does cover:", "stone": "Stepping stone {n}",
        "ask_stone": "What does stepping stone {n} ask States to do, and why?",
        "ask_section": "What does “{title}” say about {place}?",
        "gloss_en": "English", "gloss_zh": "Chinese", "gloss_paper": "The paper's wording",
        "gloss_filter": "Filter the glossary (English or Chinese)",
        "gloss_placeholder": "e.g. hotline", "gloss_none": "No term matches “{q}”.",
        "gloss_count": "{shown} of {total} terms",
        "export_md": "Export the conversation (.md)", "export_docx": "Export the conversation (.docx)",
        "export_title": "Stepping Stones assistant: conversation", "export_date": "Exported {date}",
        "export_sources": "Sources",
        # The Documents tab (assistant/ui/documents.py, uploads.py)
        "tab_documents": "Documents",
        "docs_intro": "Documents you add are indexed beside the bundled corpus and cited like it. "
                      "PDF, DOCX, HTML, Markdown or plain text; at most {mb} MB a file and {n} "
                      "files at a time. The bundled corpus cannot be removed here.",
        "docs_files": "Files to add (PDF, DOCX, HTML, MD, TXT)", "docs_kind": "They are",
        "docs_kind_user": "a document of mine (ranked beside the corpus)",
        "docs_kind_official": "an official text (cited before our notes)",
        "docs_kind_note": "a note or commentary",
        "docs_add": "Add and index", "docs_pick": "Uploaded document to remove",
        "docs_remove": "Remove and re-index", "docs_list": "Indexed documents",
        "docs_col_title": "Title", "docs_col_kind": "Kind", "docs_col_language": "Language",
        "docs_col_passages": "Passages", "docs_col_added": "Added", "docs_col_added_by": "Added by",
        "docs_col_source": "From",
        "docs_source_bundled": "bundled corpus", "docs_source_uploaded": "uploaded: {file}",
        "docs_source_cli": "command line: {folder}",
        "docs_login": "Log in to add or remove documents.",
        "docs_busy": "An ingest is already running; try again when it has finished.",
        "docs_none": "Choose one or more files first.",
        "docs_pick_none": "Choose a document to remove first.",
        "docs_phase_reading": "Reading the files and loading the embedding model…",
        "docs_phase_indexing": "Indexing…",
        "docs_phase_finishing": "Updating the search indexes…",
        "docs_phase_refreshing": "Loading the new index into the assistant…",
        "docs_progress": "Indexing {doc}: {done} of {total} passages",
        "docs_done": "Ingest finished in {seconds:.0f} s.", "docs_done_added": "Added",
        "docs_done_replaced": "Replaced", "docs_done_removed": "Removed",
        "docs_done_unchanged": "Already indexed, unchanged", "docs_done_kept": "Kept",
        "docs_documents": "{n} other documents, unchanged", "docs_done_refused": "Not added",
        "docs_done_problem": "Problem",
        "docs_live": "The assistant now answers from the new index.",
        "docs_live_same": "The assistant answers from the current index.",
        "docs_restart": "Restart the server for the assistant to answer from the new index.",
        "docs_failed": "The ingest failed: {error}",
        "docs_no_type": "no type",
        "docs_err_type": "{file}: files of type {type} cannot be added; use one of {allowed}.",
        "docs_err_size": "{file}: {size}, over the limit of {limit} a file; split it or "
                         "save it without images.",
        "docs_err_content": "{file}: named as {type} but the content is not a {type} file; "
                            "refused.",
        "docs_err_link": "{file}: a symbolic link; only ordinary files are stored or removed.",
        "docs_err_not_file": "{file}: not an ordinary file; refused.",
        "docs_err_unreadable": "{file}: could not be read ({reason}).",
        "docs_err_outside": "{file}: outside the folder {folder}; refused.",
        "docs_err_folder": "The documents folder {folder} is a symbolic link or not a folder; "
                           "make it an ordinary folder inside the data dir to add documents.",
        "docs_err_count": "{count} files chosen; add at most {n} at a time.",
        "docs_err_twice": "{file}: a file of the same name is already in this upload.",
        "docs_err_unknown": "{file} is not in the index (any more).",
        "docs_err_bundled": "{file} is part of the bundled corpus and cannot be removed.",
        "docs_err_cli": "{file} was added with the command line from {folder}; delete it there "
                        "and run `npt-assistant ingest --prune`.",
    },
    "zh": {
        "title": "阶石助手",
        "subtitle": "关于工作文件《推进核裁军的阶石》及相关《不扩散条约》文本的问答——"
                    "每个说法都附有可打开的出处段落。仅回答英文或中文问题。",
        "tab_ask": "提问", "tab_orientation": "导览",
        "question": "您的问题（中文或英文）",
        "placeholder": "例如：文件对热线有什么建议？",
        "send": "提问", "clear": "新对话",
        "sources": "出处", "no_sources": "引用的段落显示在这里。点击回答中的 [n] 即可打开。",
        "filters": "筛选（用于下一个问题）", "documents": "文件",
        "language": "段落语言", "any": "不限",
        "copy": "带出处的回答（纯文本，可粘贴到电报或草稿中）",
        "suggest": "改问一个相近的主题：",
        "feedback": "对上一个回答的意见（可选）", "send_feedback": "提交反馈",
        "feedback_saved": "谢谢，反馈已保存。",
        "followup": "按追问理解，承接", "ui_language": "界面语言",
        "official": "正式文本", "rendering": "非正式译文",
        "note": "说明（非正式）", "user": "用户添加的文件",
        "original": "原文（中文，正式文本）", "english": "英文（非正式译文）",
        "side_official": "原文（{language}，正式文本）", "side_rendering": "{language}（非正式译文）",
        "side_note": "{language}（我们的说明）", "lang_en": "英文", "lang_zh": "中文",
        "ask_about": "就此提问（{n}）", "themes": "22 个阶石（按主题）",
        "glossary": "术语表", "first_questions": "入门问题",
        "about": "这份文件是什么",
        "closest": "语料涵盖的最接近的主题：", "stone": "阶石 {n}",
        "ask_stone": "阶石 {n} 的内容和含义是什么？",
        "ask_section": "《{title}》中“{place}”一节说了什么？",
        "gloss_en": "英文", "gloss_zh": "中文", "gloss_paper": "工作文件中的用语",
        "gloss_filter": "筛选术语（中文或英文）",
        "gloss_placeholder": "例如：热线", "gloss_none": "没有与“{q}”匹配的术语。",
        "gloss_count": "共 {total} 个术语，显示 {shown} 个",
        "export_md": "导出对话（.md）", "export_docx": "导出对话（.docx）",
        "export_title": "阶石助手：对话记录", "export_date": "导出时间：{date}",
        "export_sources": "出处",
        # 文件标签页（assistant/ui/documents.py、uploads.py）
        "tab_documents": "文件",
        "docs_intro": "您添加的文件与内置语料一起编入索引，并同样被引用。支持 PDF、DOCX、HTML、"
                      "Markdown 或纯文本；每个文件不超过 {mb} MB，每次最多 {n} 个文件。"
                      "内置语料不能在此删除。",
        "docs_files": "要添加的文件（PDF、DOCX、HTML、MD、TXT）", "docs_kind": "文件类别",
        "docs_kind_user": "我的文件（与语料并列排序）",
        "docs_kind_official": "正式文本（先于我们的说明引用）",
        "docs_kind_note": "说明或评论",
        "docs_add": "添加并编入索引", "docs_pick": "要删除的上传文件",
        "docs_remove": "删除并重新编入索引", "docs_list": "已编入索引的文件",
        "docs_col_title": "标题", "docs_col_kind": "类别", "docs_col_language": "语言",
        "docs_col_passages": "段落数", "docs_col_added": "添加时间", "docs_col_added_by": "添加人",
        "docs_col_source": "来源",
        "docs_source_bundled": "内置语料", "docs_source_uploaded": "上传：{file}",
        "docs_source_cli": "命令行：{folder}",
        "docs_login": "请先登录，才能添加或删除文件。",
        "docs_busy": "已有一个编入索引的任务在运行，请在其结束后再试。",
        "docs_none": "请先选择一个或多个文件。",
        "docs_pick_none": "请先选择要删除的文件。",
        "docs_phase_reading": "正在读取文件并载入嵌入模型……", "docs_phase_indexing": "正在编入索引……",
        "docs_phase_finishing": "正在更新检索索引……",
        "docs_phase_refreshing": "正在让助手载入新索引……",
        "docs_progress": "正在编入 {doc}：第 {done} / {total} 段",
        "docs_done": "编入索引完成，用时 {seconds:.0f} 秒。", "docs_done_added": "已添加",
        "docs_done_replaced": "已替换", "docs_done_removed": "已删除",
        "docs_done_unchanged": "已在索引中，未改变", "docs_done_kept": "保留",
        "docs_documents": "其他 {n} 个文件，未改变", "docs_done_refused": "未添加",
        "docs_done_problem": "问题",
        "docs_live": "助手现在根据新索引回答。",
        "docs_live_same": "助手根据当前索引回答。",
        "docs_restart": "请重启服务器，助手才会根据新索引回答。",
        "docs_failed": "编入索引失败：{error}",
        "docs_no_type": "无类型",
        "docs_err_type": "{file}：不能添加 {type} 类型的文件；请使用 {allowed}。",
        "docs_err_size": "{file}：{size}，超过每个文件 {limit} 的上限；请拆分文件或去掉图片"
                         "后再保存。",
        "docs_err_content": "{file}：文件名表明是 {type}，但内容不是 {type} 文件；已拒绝。",
        "docs_err_link": "{file}：是符号链接；只存储或删除普通文件。",
        "docs_err_not_file": "{file}：不是普通文件；已拒绝。",
        "docs_err_unreadable": "{file}：无法读取（{reason}）。",
        "docs_err_outside": "{file}：在文件夹 {folder} 之外；已拒绝。",
        "docs_err_folder": "文件夹 {folder} 是符号链接或不是文件夹；请在数据目录中把它改为普通"
                           "文件夹后再添加文件。",
        "docs_err_count": "选择了 {count} 个文件；每次最多添加 {n} 个。",
        "docs_err_twice": "{file}：本次上传中已有同名文件。",
        "docs_err_unknown": "{file} 不在（或已不在）索引中。",
        "docs_err_bundled": "{file} 属于内置语料，不能删除。",
        "docs_err_cli": "{file} 是用命令行从 {folder} 添加的；请在那里删除它，然后运行 "
                        "`npt-assistant ingest --prune`。",
    },
}


def t(lang: str, key: str) -> str:
    """Return the UI string for a key in a language (English when missing)."""
    return STRINGS.get(lang, STRINGS["en"]).get(key) or STRINGS["en"][key]


def choice_lang(choice: str) -> str:
    """Return the language code of the interface language switch's choice ("中文" → "zh")."""
    return "zh" if choice == "中文" else "en"


# Headings of the 22 stones in Chinese, for labels (the paper has none; these follow the headings
# of our English rendering, "Stepping stone 5: dialogue on doctrine and declaratory policy").
STONE_HEADINGS_ZH = {
    1: "永不再使用核武器", 2: "《进一步削减和限制进攻性战略武器措施条约》", 3: "削减核武库",
    4: "核武器在政策和理论中的作用", 5: "关于核理论和宣示性政策的对话", 6: "报告武库及其现代化",
    7: "消极安全保证", 8: "无核武器区与中东", 9: "关于核风险的结构化对话",
    10: "危机沟通、热线和降低风险中心", 11: "常规系统与核系统的缠结", 12: "核试验与《全面禁止核试验条约》",
    13: "暂停生产裂变材料", 14: "打破禁止裂变材料生产条约的谈判僵局", 15: "核裁军核查",
    16: "青年一代的参与", 17: "受核武器影响的社区", 18: "妇女参与和性别观点", 19: "战略稳定对话",
    20: "标准化报告", 21: "国家执行情况报告", 22: "加强审议周期",
}

# Places in the working paper that `assistant.answer.zh_locator` leaves in English.
PAPER_PLACES_ZH = {
    "Annex heading and title": "附件标题", "Annex heading": "附件标题",
    "Annex, closing paragraph": "附件，结尾段", "Annex, paragraph 4 (closing)": "附件，第 4 段（结尾段）",
    "Title block": "标题（日期、地点、标题）",
}
