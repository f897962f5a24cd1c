"""Synthetic distractor working papers, English and Chinese, built from the corpus vocabulary.

Reproducible from a seed; nothing is downloaded. Each paper is a markdown file with sections of
plausible diplomatic sentences recombined from the corpus's own terms, so that retrieval has to
find the real passage among many that look alike."""

from __future__ import annotations

import random
from pathlib import Path

EN_SUBJECTS = ["All States", "Nuclear-weapon States", "States parties to the Treaty",
               "Non-nuclear-weapon States", "Regional organizations", "The Conference on Disarmament",
               "Possessor States", "Civil society organizations", "The depositary States"]
EN_VERBS = ["should consider", "are encouraged to", "commit to", "may wish to", "are invited to",
            "reaffirm their intention to", "should redouble efforts to"]
EN_OBJECTS = ["strengthen transparency on fissile material stocks", "report on doctrine reviews",
              "support verification research", "deepen dialogue on strategic stability",
              "reduce the operational readiness of delivery systems", "promote disarmament education",
              "enhance export controls for dual-use items", "reinforce safeguards implementation",
              "discuss risk reduction in regional fora", "explore confidence-building measures",
              "examine the humanitarian consequences of nuclear use", "review security assurances",
              "coordinate national implementation reports", "advance peaceful uses cooperation"]
EN_TAILS = ["before the next Preparatory Committee", "in the current review cycle",
            "in cooperation with the IAEA", "with the participation of experts",
            "through voluntary national reports", "as a matter of priority", "within existing resources"]
ZH_SUBJECTS = ["所有国家", "核武器国家", "缔约国", "无核武器国家", "区域组织", "裁军谈判会议", "核拥有国"]
ZH_VERBS = ["应考虑", "受到鼓励", "承诺", "不妨", "应加倍努力"]
ZH_OBJECTS = ["提高裂变材料库存的透明度", "报告核理论审查情况", "支持核查研究", "深化关于战略稳定的对话",
              "降低运载系统的戒备状态", "促进裁军教育", "加强两用物项出口管制", "加强保障监督的执行",
              "在区域论坛讨论降低风险问题", "探讨建立信任措施", "审查安全保证", "协调国家执行情况报告"]
ZH_TAILS = ["在下一届筹备委员会之前", "在本审议周期内", "与国际原子能机构合作",
            "通过自愿提交的国家报告", "作为优先事项"]


def sentence(rng: random.Random, lang: str) -> str:
    if lang == "zh":
        return (rng.choice(ZH_SUBJECTS) + rng.choice(ZH_VERBS) + rng.choice(ZH_TAILS)
                + rng.choice(ZH_OBJECTS) + "。")
    return (f"{rng.choice(EN_SUBJECTS)} {rng.choice(EN_VERBS)} {rng.choice(EN_OBJECTS)} "
            f"{rng.choice(EN_TAILS)}.")


def generate(folder: Path, chunks: int, seed: int = 7, sections_per_paper: int = 20) -> int:
    """Write papers totalling about `chunks` sections (one chunk each); return files written."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    papers = max(1, chunks // sections_per_paper)
    for p in range(papers):
        lang = "zh" if p % 3 == 2 else "en"
        title = (f"合成工作文件 {p}" if lang == "zh" else f"Synthetic working paper {p}")
        lines = ["---", f"id: distractor-{seed}-{p}", f'title: "{title}"', "kind: user",
                 f"language: {lang}", "source: synthetic distractor (bench/distractors.py)", "---",
                 f"# {title}", ""]
        for s in range(sections_per_paper):
            heading = f"第 {s + 1} 节" if lang == "zh" else f"Section {s + 1}"
            body = (" " if lang == "en" else "").join(sentence(rng, lang)
                                                      for _ in range(rng.randint(2, 4)))
            lines += [f"## {heading}", "", body, ""]
        (folder / f"distractor-{p:05d}.md").write_text("\n".join(lines), encoding="utf-8")
    return papers
