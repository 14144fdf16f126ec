"""Demo articles: typical cases and integrity education, written through the same service as real ones.

Every subject is fictional (名称均为化名); dates fall within the year before `today`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.content import service
from xinyong.content.models import Article


@dataclass(frozen=True)
class DemoArticle:
    kind: str
    category: str
    title: str
    summary: str
    body: str
    source: str
    codes: tuple[str, ...]
    days_ago: int


DEMO_ARTICLES = (
    DemoArticle(
        kind="case",
        category="失信惩戒",
        title="某建设工程公司因列入严重失信主体名单被限制参与招标投标",
        summary="招标人在资格审查阶段通过平台开展信用核查，发现投标人在严重失信主体名单公示期内，依法否决其投标。",
        body=(
            "某市一条农村公路改建工程依法公开招标。评标委员会在资格审查阶段，通过公共信用信息平台对全部投标人"
            "开展信用核查，发现投标人甲建设工程有限公司（化名）因拖欠农民工工资情节严重，已被人力资源社会保障部门"
            "依法认定为严重失信主体，目前仍在公示期内。\n\n"
            "依据联合奖惩措施清单“禁止严重失信主体参与依法必须招标项目的投标”的规定，评标委员会否决了该公司的投标，"
            "并将核查结果和措施实施情况通过平台反馈。\n\n"
            "该公司随后全额支付了拖欠的工资。认定部门提醒：严重失信主体名单有明确的公示期限，期满或依法完成信用修复后"
            "移出名单，但在公示期内，招标投标、政府采购、财政资金申报等领域均会受到限制。"
        ),
        source="某市公共资源交易中心",
        codes=("P-SD-BID-BAN",),
        days_ago=23,
    ),
    DemoArticle(
        kind="case",
        category="守信激励",
        title="守信激励对象办理施工许可享受“容缺受理”，审批提速一周",
        summary="一家列入守信激励对象名单的企业在部分非核心材料暂缺的情况下，经承诺后获得容缺受理，许可提前办结。",
        body=(
            "乙精密制造有限公司（化名）连续多年依法纳税、按时缴纳社会保险费，无不良信用记录，已列入守信激励对象名单。"
            "今年该公司扩建厂房，申请建筑工程施工许可时，一份非核心的补充证明材料尚在办理中。\n\n"
            "审批窗口通过平台信用核查确认该公司在守信激励对象名单内，依据措施清单“守信主体行政审批容缺受理”，"
            "在企业签署信用承诺书、承诺限期补齐材料后先行受理并开展审查。企业按期补交了材料，许可比常规流程提前约"
            "一周办结。\n\n"
            "容缺受理以信用承诺为前提：企业未按承诺补齐材料或承诺不实的，将按规定记入信用记录，并影响今后享受"
            "激励措施。"
        ),
        source="某区行政审批局",
        codes=("I-RED-PENDING-DOCS", "I-RED-APPROVAL-FAST"),
        days_ago=51,
    ),
    DemoArticle(
        kind="case",
        category="信用修复",
        title="某食品公司缴清罚款并完成整改，行政处罚信息提前停止公示",
        summary="企业履行行政处罚决定、完成整改并作出信用承诺后申请信用修复，经审核提前停止公示相关处罚信息。",
        body=(
            "丙食品有限公司（化名）因生产经营的食品标签不符合食品安全标准，被市场监管部门处以罚款。该行政处罚属于"
            "一般失信行为，按规定在平台公示。\n\n"
            "公司全额缴纳了罚款，更换了不合格标签，并参加了信用修复培训。最短公示期满后，公司通过平台提交信用修复"
            "申请，附缴款凭证、整改情况说明和信用修复承诺书。\n\n"
            "经作出处罚决定的部门核实，该处罚信息提前停止公示，平台同步更新了公示状态。信用修复不是“一笔勾销”："
            "修复后再次发生同类失信行为的，将依法从重处理，并可能在一定期限内不予受理修复申请。"
        ),
        source="某市市场监督管理局",
        codes=(),
        days_ago=88,
    ),
    DemoArticle(
        kind="case",
        category="失信惩戒",
        title="失信被执行人被限制高消费后主动履行判决义务",
        summary="一名企业法定代表人因公司拒不履行生效判决被限制高消费，订购高铁一等座受阻后主动联系法院履行义务。",
        body=(
            "丁商贸有限公司（化名）拒不履行生效判决确定的货款支付义务，被人民法院依法纳入失信被执行人名单，"
            "并对公司及其法定代表人采取限制消费措施。\n\n"
            "该法定代表人出差时订购高铁一等座和飞机票均未成功，得知系限制高消费所致。随后，公司主动联系执行法官，"
            "一次性支付了欠付货款及迟延履行期间的利息。\n\n"
            "履行完毕后，人民法院依法将其从失信被执行人名单中删除，并解除了限制消费措施，平台据此更新了相关信息。"
        ),
        source="某区人民法院",
        codes=("P-SXBZX-CONSUMPTION",),
        days_ago=132,
    ),
    DemoArticle(
        kind="case",
        category="失信惩戒",
        title="欠税企业申报财政专项资金被暂缓支持",
        summary="财政资金项目审核中信用核查发现申报企业存在欠税记录，依照措施清单暂缓支持，企业补缴税款后恢复申报。",
        body=(
            "在某年度中小企业发展专项资金申报审核中，主管部门对拟支持企业逐一开展信用核查。戊科技有限公司（化名）"
            "被发现存在欠缴税款的公告信息。\n\n"
            "依据联合奖惩措施清单“限制欠税主体申请财政性资金”，主管部门暂缓了对该公司的支持，并书面告知原因和依据。"
            "公司补缴全部税款及滞纳金后，欠税信息依法更新，公司在下一批次重新申报。\n\n"
            "主管部门提醒：财政性资金申报前，企业可先通过平台查询本单位信用记录，及时处理欠税、欠缴社会保险费等问题。"
        ),
        source="某市经济和信息化局",
        codes=("P-QS-FUND-RESTRICT",),
        days_ago=197,
    ),
    DemoArticle(
        kind="case",
        category="守信激励",
        title="小微企业凭良好信用获得“信易贷”无抵押贷款",
        summary="一家没有厂房抵押的小微企业凭借良好的纳税和信用记录，通过“信易贷”获得纯信用贷款。",
        body=(
            "己农产品加工有限公司（化名）是一家小微企业，因收购季节资金周转紧张，又缺少可抵押的房产。\n\n"
            "该公司经授权后，合作银行通过平台查询其纳税、社会保险缴纳和公共信用记录，确认其信用状况良好、"
            "列入守信激励对象名单，依据“守信主体‘信易贷’融资便利”措施，为其发放了纯信用贷款，并给予利率优惠。\n\n"
            "守信激励措施让信用好的企业“有信用就能贷”。企业应当珍惜信用记录，按期还款，以免失去激励资格。"
        ),
        source="某市发展和改革委员会",
        codes=("I-RED-LOAN",),
        days_ago=301,
    ),
    DemoArticle(
        kind="education",
        category="其他",
        title="严重失信主体名单是怎样认定、公示和移出的",
        summary="列入严重失信主体名单须依法定程序：事先告知、陈述申辩、作出认定，公示期满或信用修复后移出。",
        body=(
            "严重失信主体名单由有关部门依照法律、法规和党中央、国务院政策文件的规定认定，不得随意扩大范围。\n\n"
            "认定前，认定部门应当告知当事人拟列入的事由、依据和享有的陈述申辩权利，当事人可在规定期限内提出陈述申辩。"
            "认定部门作出列入决定的，应当写明认定依据、主要失信事实和公示期限。\n\n"
            "列入名单的信息在平台公示。公示期满的，自动移出；在公示期内依法纠正失信行为、申请信用修复并经审核同意的，"
            "可以提前移出。\n\n"
            "对名单信息有异议的，可以向认定部门或通过平台提出异议申请。"
        ),
        source="信用办",
        codes=(),
        days_ago=40,
    ),
    DemoArticle(
        kind="education",
        category="信用修复",
        title="行政处罚信息信用修复怎么办：条件、材料与流程",
        summary="履行处罚决定、纠正失信行为、最短公示期满，即可申请信用修复；申请免费，不需要中介代办。",
        body=(
            "信用修复的条件：已全面履行行政处罚决定规定的义务，纠正了失信行为，且公示已满最短公示期。\n\n"
            "需要的材料：信用修复申请书、履行行政处罚决定的证明（如缴款凭证）、整改情况说明和信用修复承诺书。\n\n"
            "办理流程：通过平台提交申请，经审核通过后停止公示相关信息，平台同步更新。\n\n"
            "请注意：信用修复申请免费办理，任何机构以“付费修复”“包过”等名义收费的，都可能是诈骗，请向信用办举报。"
        ),
        source="信用办",
        codes=(),
        days_ago=160,
    ),
)


def seed_articles(session: Session, principal: Principal, today: dt.date) -> int:
    """Write and publish the demo articles whose titles are not there yet; returns how many were added."""
    existing = set(session.scalars(select(Article.title)).all())
    added = 0
    for demo in DEMO_ARTICLES:
        if demo.title in existing:
            continue
        article = service.create(
            session,
            principal,
            kind=demo.kind,
            category=demo.category,
            title=demo.title,
            summary=demo.summary,
            body=demo.body,
            source=demo.source,
            related_measure_codes=demo.codes,
        )
        service.publish(session, principal, article, today=today - dt.timedelta(days=demo.days_ago))
        added += 1
    return added
