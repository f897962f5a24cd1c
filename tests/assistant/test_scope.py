"""Near-miss questions: a name the corpus never mentions is refused, saying which name; a
question wanting a count, a person or an opinion that no close passage holds loses support."""

from __future__ import annotations

import pytest

from assistant import answer_type
from assistant.scope import Entity, Scope

CORPUS = ["The NPT entered into force on 5 March 1970. Sponsors: Japan, Germany and Sweden.",
          "The Stockholm Initiative met in Berlin; 不扩散条约；日本；德国。",
          "The Democratic People's Republic of Korea announced its withdrawal (朝鲜民主主义人民共和国)."]
ENTITIES = [Entity(("Iran", "伊朗")), Entity(("Japan", "日本")), Entity(("North Korea", "DPRK", "朝鲜")),
            Entity(("TPNW", "禁止核武器条约"))]


@pytest.fixture
def scope() -> Scope:
    return Scope(CORPUS, entities=ENTITIES)


@pytest.mark.parametrize("question, unknown", [
    ("What does the paper say about Iran?", ["Iran"]),
    ("文件怎么看待伊朗？", ["伊朗"]),
    ("《禁止核武器条约》是什么时候生效的？", ["禁止核武器条约"]),
    ("What did Heiko Maas say in Berlin?", ["Heiko", "Maas"]),
    ("What happened in 1985?", ["1985"]),
    ("What does the paper say about Japan?", []),  # a sponsor
    ("Is North Korea still a party?", []),  # known through its Chinese name
    ("What is the role of the Stockhlom Initiative?", []),  # a typo, not a new name
    ("WHAT DID THE SPONSORS SAY IN BERLIN", []),  # capitals say nothing in ALL CAPS
    ("When did the NPT enter into force?", []),
])
def test_names_the_corpus_never_mentions_are_found(scope: Scope, question: str,
                                                    unknown: list[str]) -> None:
    assert scope.unknown(question) == unknown


def test_a_user_document_makes_a_name_known() -> None:
    scope = Scope(CORPUS, indexed=lambda name: name == "Iran", entities=ENTITIES)
    assert scope.unknown("What does the paper say about Iran?") == []


@pytest.mark.parametrize("question, text, answered", [
    ("How many stepping stones are there?", "The annex lists 22 stepping stones.", True),
    ("How many warheads does France have?", "Action 5 asks for reports on arsenals.", False),
    ("一共有多少个阶石？", "附件列出了22个阶石。", True),
    ("When did the NPT enter into force?", "It entered into force on 5 March 1970.", True),
    ("Who chaired the Berlin meeting?", "Germany hosted the meeting in Berlin.", False),
    ("What does the paper propose on hotlines?", "Hotlines between capitals.", True),
])
def test_an_answer_of_the_wanted_kind_must_be_in_one_sentence(question: str, text: str,
                                                               answered: bool) -> None:
    assert answer_type.answered(question, text) is answered


def test_predictions_and_opinions_are_speculative() -> None:
    assert answer_type.speculative("Will Russia ever rejoin New START?")
    assert answer_type.speculative("阶石倡议最后能成功吗？")
    assert not answer_type.speculative("What does stepping stone 2 ask of the United States?")


def test_a_year_is_known_only_with_the_topic_the_corpus_names_it_for() -> None:
    scope = Scope(["In February 2023 Russia suspended its participation in New START."],
                  entities=[Entity(("Russia", "俄罗斯"))])
    assert scope.unknown("Did Russia suspend New START in February 2023?") == []
    assert "2023" in scope.unknown("What happened at the 2023 Preparatory Committee session?")
