"""The plan of the demo's repair history: the cases per department (final state, channel, age, overdue), the
steps of each path, and the wording of notes, statements and the people who sign or are contacted."""

from __future__ import annotations

# (path, channel, age in days of the submission or None for "as recent as the path allows", overdue), per
# department. A path is named by its final state (a repair after a request for material, and a refusal
# completed on re-check, 漏修, also end "repaired"); ages spread decisions over the last three months so each
# monthly re-check draw has cases.
PLAN: tuple[tuple[str, str, int | None, bool], ...] = (
    ("submitted", "online", None, False),
    ("submitted", "paper", None, True),
    ("accepted", "online", None, False),
    ("accepted", "paper", None, True),
    ("under_review", "online", None, False),
    ("under_review", "online", None, True),
    ("material_requested", "paper", None, False),
    ("repaired", "online", 24, False),
    ("repaired_after_material", "online", 52, False),
    ("repaired", "paper", 80, False),
    ("repaired", "online", 105, False),
    ("refused", "online", 40, False),
    ("not_accepted", "paper", 33, False),
    ("withdrawn", "online", 20, False),
    ("reverted", "online", 110, False),
    ("completed", "paper", 95, False),
)
# path -> steps (event, working days after the previous step, who acts: department, applicant, office)
PATHS: dict[str, tuple[tuple[str, int, str], ...]] = {
    "submitted": (),
    "not_accepted": (("reject", 2, "department"),),
    "accepted": (("accept", 1, "department"),),
    "under_review": (("accept", 1, "department"), ("review", 1, "department")),
    "material_requested": (
        ("accept", 1, "department"),
        ("review", 1, "department"),
        ("request_material", 2, "department"),
    ),
    "refused": (("accept", 1, "department"), ("review", 1, "department"), ("refuse", 4, "department")),
    "repaired": (("accept", 1, "department"), ("review", 1, "department"), ("approve", 4, "department")),
    "repaired_after_material": (
        ("accept", 1, "department"),
        ("review", 1, "department"),
        ("request_material", 2, "department"),
        ("supplement", 4, "applicant"),
        ("approve", 3, "department"),
    ),
    "withdrawn": (("accept", 1, "department"), ("withdraw", 2, "applicant")),
    "reverted": (
        ("accept", 1, "department"),
        ("review", 1, "department"),
        ("approve", 5, "department"),
        ("revert", 20, "office"),
    ),
    "completed": (
        ("accept", 2, "department"),
        ("review", 1, "department"),
        ("refuse", 5, "department"),
        ("complete", 15, "office"),
    ),
}
NOTES = {
    "reject": "该行政处罚决定尚在行政复议期间，处罚决定未生效，暂不予受理。",
    "request_material": "请补充提交整改完成的现场照片及第三方机构出具的验收报告。",
    "refuse": "经核查，当事人尚未缴清处罚决定确定的罚没款，不符合修复条件。",
    "approve": "材料齐全，当事人已履行处罚决定确定的义务并完成整改，准予修复。",
    "revert": "复核发现罚款缴纳凭证与非税收入收缴系统记录不符，原修复决定有误（错修），予以撤销。",
    "complete": "复核发现当事人已于申请前缴清罚没款，原不予修复决定有误（漏修），予以补办修复。",
}
STATEMENTS = (
    "已于{paid}全额缴纳罚款，并对违法行为完成整改，建立了内部合规自查制度，申请对该行政处罚信息进行信用修复。",
    "已按处罚决定书履行全部义务（罚款已缴清），整改情况已经主管部门现场核查，特申请信用修复。",
    "公司已纠正失信行为、缴清罚没款，组织全员开展合规培训并指定专人负责，承诺不再发生同类违法行为。",
)
SIGNERS = ("王建国", "李秀英", "张伟", "刘洋", "陈静", "杨军", "赵丽", "黄磊", "周敏", "吴强")
CONTACTS = ("王经理", "李会计", "张主管", "刘专员", "陈经理", "杨主任")
