"""Templates of the synthetic Sichuan's department records: penalties, licences, inspections, enforcement,
confirmations, honours, commitments and the wording of the other items.

Pure data used by `xinyong.demo.generator`. Templates name the subjects they fit by kind ("E" enterprise,
"I" individual business, "P" natural person, "G" government body) and by industry (None: any industry).
Text templates use `str.format` placeholders that the generator fills: {d} (a date in 年月日 form), {place}
(a street address), {area} (a region name),
{n}, {value}, {gain}, {goods}, {person}, {year}, {amount}, {creditor}, {project}.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    kinds: str
    industries: frozenset[str] | None

    def fits(self, kind: str, industry: str) -> bool:
        return kind in self.kinds and (self.industries is None or industry in self.industries)


def ind(*keys: str) -> frozenset[str]:
    return frozenset(keys)


@dataclass(frozen=True)
class Penalty(Template):
    sector: str
    violation: str
    facts: str
    basis: str
    certificate: str = "营业执照"


@dataclass(frozen=True)
class Licence(Template):
    doc_name: str
    category: str
    certificate: str
    number: str
    contents: tuple[str, ...]
    years: int


@dataclass(frozen=True)
class Inspection(Template):
    types: tuple[str, ...]
    matters: tuple[str, ...]


@dataclass(frozen=True)
class Enforcement(Template):
    measure: str
    content: str


@dataclass(frozen=True)
class Confirmation(Template):
    confirmation: str
    content: str
    years: int


@dataclass(frozen=True)
class Honour(Template):
    honour: str
    levels: tuple[str, ...]


@dataclass(frozen=True)
class Commitment(Template):
    commitment: str
    matter: str
    content: str


FOOD = ind("food", "hotel", "retail", "agriculture")
PLANTS = ind("manufacturing", "chemical", "construction", "environment", "agriculture", "food")
VENUES = ind("hotel", "retail", "food", "culture", "realestate", "medical")
ORGS = "EI"

# "MR" stands for SCMR and the 21 prefecture market-regulation bureaus.
PENALTIES: dict[str, tuple[Penalty, ...]] = {
    "MR": (
        Penalty(ORGS, FOOD, "食品药品", "经营超过保质期的食品",
                "{d}，执法人员对当事人位于{place}的经营场所进行检查，发现其销售的{goods}共{n}件已超过保质期，货值金额{value}元，违法所得{gain}元。",
                "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项", "食品经营许可证"),
        Penalty(ORGS, FOOD, "食品药品", "未取得食品经营许可从事食品经营活动",
                "{d}，执法人员检查发现当事人未取得食品经营许可，在{place}从事{goods}经营活动，货值金额{value}元，违法所得{gain}元。",
                "《中华人民共和国食品安全法》第一百二十二条第一款"),
        Penalty(ORGS, ind("food", "hotel"), "食品药品", "餐饮服务提供者未按规定对餐具、饮具进行清洗消毒",
                "{d}，执法人员对当事人位于{place}的餐饮服务场所进行检查，发现其餐具、饮具未按规定清洗消毒，经检测大肠菌群不合格。",
                "《中华人民共和国食品安全法》第一百二十六条第一款第（五）项", "食品经营许可证"),
        Penalty(ORGS, ind("pharma", "medical"), "食品药品", "未按规定储存药品",
                "{d}，执法人员检查发现当事人位于{place}的药品阴凉库温湿度超出规定范围，涉及药品{n}个品种，货值金额{value}元。",
                "《中华人民共和国药品管理法》第一百二十六条", "药品经营许可证"),
        Penalty("E", ind("manufacturing", "chemical", "realestate", "hotel", "logistics"), "特种设备",
                "使用未经定期检验的特种设备",
                "{d}，执法人员检查发现当事人位于{place}在用的{n}台特种设备（电梯、叉车）超过定期检验有效期仍继续使用。",
                "《中华人民共和国特种设备安全法》第八十四条第（一）项"),
        Penalty("E", ind("manufacturing", "chemical", "construction", "logistics"), "特种设备",
                "特种设备作业人员未取得相应资格从事作业",
                "{d}，执法人员检查发现当事人安排未取得特种设备作业人员证的人员在{place}操作起重机械。",
                "《中华人民共和国特种设备安全法》第八十六条第（一）项"),
        Penalty(ORGS, None, "市场监管", "发布虚假广告",
                "经查，当事人自{d}起通过网络平台及店招发布含有虚假内容的广告，广告费用{value}元。",
                "《中华人民共和国广告法》第五十五条第一款"),
        Penalty(ORGS, ind("retail", "manufacturing", "construction"), "市场监管",
                "生产、销售不符合保障人体健康和人身、财产安全的国家标准的产品",
                "{d}，经监督抽查，当事人位于{place}生产销售的{goods}经检验不合格，货值金额{value}元，违法所得{gain}元。",
                "《中华人民共和国产品质量法》第四十九条"),
        Penalty(ORGS, ind("retail", "food", "hotel"), "市场监管", "不按规定明码标价",
                "{d}，执法人员检查发现当事人位于{place}的经营场所销售商品未按规定明码标价，涉及商品{n}种。",
                "《中华人民共和国价格法》第四十二条；《明码标价和禁止价格欺诈规定》第二十一条"),
        Penalty(ORGS, ind("retail",), "市场监管", "销售侵犯注册商标专用权的商品",
                "{d}，执法人员在当事人位于{place}的经营场所查获侵犯注册商标专用权的{goods}{n}件，货值金额{value}元。",
                "《中华人民共和国商标法》第六十条第二款"),
        Penalty("E", ind("tech", "culture", "retail"), "市场监管", "电子商务经营者未依法公示营业执照信息",
                "{d}，执法人员网络巡查发现当事人在其网店首页未公示营业执照信息及相关行政许可信息。",
                "《中华人民共和国电子商务法》第七十六条第一款第（一）项"),
    ),
    "SCYJJ": (
        Penalty("E", ind("pharma",), "食品药品", "药品批发企业未遵守药品经营质量管理规范",
                "{d}，检查组对当事人开展药品GSP飞行检查，发现其计算机系统记录与实际收货不符，涉及药品{n}批次。",
                "《中华人民共和国药品管理法》第一百二十六条", "药品经营许可证"),
        Penalty(ORGS, ind("pharma", "medical"), "食品药品", "经营未取得医疗器械注册证的第二类医疗器械",
                "{d}，执法人员检查发现当事人位于{place}经营的{n}件第二类医疗器械无注册证，货值金额{value}元，违法所得{gain}元。",
                "《医疗器械监督管理条例》第八十四条第一款第（一）项"),
    ),
    "SCSTHJ": (
        Penalty("E", PLANTS, "生态环境", "超过大气污染物排放标准排放大气污染物",
                "{d}，执法人员对当事人位于{place}的生产车间进行现场检查并监测，颗粒物排放浓度超过国家排放标准{n}%。",
                "《中华人民共和国大气污染防治法》第九十九条第（二）项"),
        Penalty("E", ind("chemical", "manufacturing", "medical", "environment"), "生态环境",
                "未按照规定设置危险废物识别标志",
                "{d}，执法人员检查发现当事人位于{place}的危险废物贮存场所未设置危险废物识别标志，现场贮存废矿物油约{n}吨。",
                "《中华人民共和国固体废物污染环境防治法》第一百一十二条第一款第（一）项"),
        Penalty("E", PLANTS, "生态环境", "建设项目环境影响报告表未经批准擅自开工建设",
                "{d}，执法人员检查发现当事人位于{place}的扩建项目环境影响报告表未经批准即开工建设，项目总投资{value}元。",
                "《中华人民共和国环境影响评价法》第三十一条第一款"),
        Penalty("E", ind("chemical", "manufacturing", "food", "environment"), "生态环境",
                "通过暗管等逃避监管的方式排放水污染物",
                "{d}，执法人员检查发现当事人位于{place}通过暗管将未经处理的生产废水直接排入外环境，化学需氧量超标{n}倍。",
                "《中华人民共和国水污染防治法》第八十三条第（三）项"),
        Penalty("E", ind("construction", "realestate"), "生态环境", "施工工地未采取有效扬尘防治措施",
                "{d}，执法人员检查发现当事人位于{place}的施工工地裸土未覆盖、运输车辆未冲洗，产生明显扬尘。",
                "《中华人民共和国大气污染防治法》第一百一十五条第一款"),
        Penalty("P", None, "生态环境", "露天焚烧秸秆、落叶等产生烟尘污染的物质",
                "{d}，执法人员巡查发现当事人在{area}露天焚烧秸秆，焚烧面积约{n}平方米。",
                "《中华人民共和国大气污染防治法》第一百一十九条第一款"),
    ),
    "SCYJ": (
        Penalty("E", ind("chemical", "manufacturing", "construction", "logistics"), "安全生产",
                "未按照规定对从业人员进行安全生产教育和培训",
                "{d}，执法人员检查发现当事人位于{place}的{n}名从业人员未经安全生产教育和培训即上岗作业。",
                "《中华人民共和国安全生产法》第九十七条第（三）项"),
        Penalty("E", ind("chemical", "manufacturing", "construction"), "安全生产", "未建立事故隐患排查治理制度",
                "{d}，执法人员检查发现当事人未建立事故隐患排查治理制度，未如实记录事故隐患排查治理情况。",
                "《中华人民共和国安全生产法》第一百零一条第（五）项"),
        Penalty("E", ind("chemical",), "安全生产", "未按照规定储存危险化学品",
                "{d}，执法人员检查发现当事人位于{place}的危险化学品未储存在专用仓库内，涉及危险化学品约{n}吨。",
                "《危险化学品安全管理条例》第八十条第一款第（五）项"),
        Penalty("E", ind("manufacturing", "construction", "chemical", "logistics"), "安全生产",
                "特种作业人员未按照规定经专门的安全作业培训并取得相应资格上岗作业",
                "{d}，执法人员检查发现当事人安排{n}名未取得特种作业操作证的人员从事电焊作业。",
                "《中华人民共和国安全生产法》第九十七条第（七）项"),
    ),
    "SCXF": (
        Penalty(ORGS, VENUES, "消防安全", "消防设施、器材未保持完好有效",
                "{d}，消防救援机构检查发现当事人位于{place}的室内消火栓无水、{n}具灭火器失效。",
                "《中华人民共和国消防法》第六十条第一款第（一）项"),
        Penalty(ORGS, VENUES, "消防安全", "占用、堵塞、封闭疏散通道、安全出口",
                "{d}，消防救援机构检查发现当事人位于{place}的经营场所安全出口被锁闭、疏散通道堆放杂物。",
                "《中华人民共和国消防法》第六十条第一款第（三）项"),
        Penalty("E", ind("hotel", "culture", "retail"), "消防安全",
                "公众聚集场所未经消防安全检查擅自投入使用、营业",
                "{d}，消防救援机构检查发现当事人位于{place}的公众聚集场所未经消防安全检查即投入使用、营业，建筑面积约{n}平方米。",
                "《中华人民共和国消防法》第五十八条第一款第（四）项"),
        Penalty("P", None, "消防安全", "占用、堵塞、封闭消防车通道",
                "{d}，消防救援机构检查发现当事人在{area}将车辆停放于消防车通道，妨碍消防车通行。",
                "《中华人民共和国消防法》第六十条第二款"),
    ),
    "SCTAX": (
        Penalty(ORGS, None, "税务", "未按照规定期限办理纳税申报和报送纳税资料",
                "经查，当事人未按照规定期限办理{year}年度{goods}纳税申报，逾期{n}日。",
                "《中华人民共和国税收征收管理法》第六十二条"),
        Penalty("E", None, "税务", "虚开增值税普通发票",
                "经查，当事人在没有真实交易的情况下为他人虚开增值税普通发票{n}份，金额合计{value}元。",
                "《中华人民共和国发票管理办法》第三十五条"),
        Penalty(ORGS, None, "税务", "少缴应纳税款（偷税）",
                "经查，当事人{year}年度通过在账簿上多列支出、不列收入等手段少缴应纳税款{value}元。",
                "《中华人民共和国税收征收管理法》第六十三条第一款"),
        Penalty(ORGS, None, "税务", "未按照规定保管发票",
                "经查，当事人丢失已开具发票存根联{n}份，未按规定保管发票。",
                "《中华人民共和国发票管理办法》第三十三条"),
        Penalty("P", None, "税务", "未按照规定办理个人所得税纳税申报",
                "经查，当事人取得{year}年度综合所得需要办理汇算清缴，未按照规定期限办理纳税申报，少缴税款{value}元。",
                "《中华人民共和国税收征收管理法》第六十二条、第六十四条第二款"),
    ),
    "SCJT": (
        Penalty("EP", ind("logistics",), "交通运输", "未取得道路运输经营许可擅自从事道路运输经营",
                "{d}，执法人员在{area}检查发现当事人驾驶车辆未取得道路运输经营许可从事道路运输经营，违法所得{gain}元。",
                "《中华人民共和国道路运输条例》第六十三条"),
        Penalty("EP", ind("logistics",), "交通运输", "车货总重超过公路、公路桥梁限载标准的超限运输",
                "{d}，执法人员在{area}公路超限检测站检测发现当事人货运车辆车货总重超过限载标准{n}吨。",
                "《公路安全保护条例》第六十四条"),
        Penalty("E", ind("logistics",), "交通运输", "未按照规定维护和检测运输车辆",
                "{d}，执法人员检查发现当事人{n}辆营运车辆未按照规定进行二级维护和综合性能检测。",
                "《中华人民共和国道路运输条例》第七十条第一款"),
        Penalty("E", ind("logistics",), "交通运输", "道路运输车辆未按照规定安装使用卫星定位装置",
                "{d}，执法人员检查发现当事人{n}辆重型载货汽车卫星定位装置未正常使用。",
                "《道路运输车辆动态监督管理办法》第三十六条"),
    ),
    "SCZJ": (
        Penalty("E", ind("construction", "realestate"), "其他", "未取得施工许可证擅自施工",
                "{d}，执法人员检查发现当事人位于{place}的建设项目未取得施工许可证即开工建设，合同价款{value}元。",
                "《建设工程质量管理条例》第五十七条；《建筑工程施工许可管理办法》第十二条"),
        Penalty("E", ind("construction",), "其他", "施工单位在施工中偷工减料",
                "{d}，检查发现当事人位于{place}承建的项目使用不合格的建筑材料，涉及钢筋约{n}吨。",
                "《建设工程质量管理条例》第六十四条"),
        Penalty("E", ind("construction",), "安全生产", "施工现场未采取相应安全施工措施",
                "{d}，执法人员检查发现当事人位于{place}的施工现场临边洞口未设置防护、脚手架搭设不符合规范。",
                "《建设工程安全生产管理条例》第六十四条"),
    ),
    "SCWJ": (
        Penalty("E", ind("medical",), "其他", "使用非卫生技术人员从事医疗卫生技术工作",
                "{d}，卫生健康监督员检查发现当事人位于{place}使用{n}名未取得执业资格的人员从事诊疗活动。",
                "《医疗机构管理条例》第四十七条", "医疗机构执业许可证"),
        Penalty(ORGS, ind("hotel", "culture"), "其他", "公共场所未按照规定对顾客用品用具进行清洗消毒",
                "{d}，卫生健康监督员检查发现当事人位于{place}的客房茶具未按规定清洗消毒，经检测{n}件不合格。",
                "《公共场所卫生管理条例实施细则》第三十六条第（二）项", "公共场所卫生许可证"),
        Penalty("EI", ind("medical",), "其他", "未按照规定处置医疗废物",
                "{d}，卫生健康监督员检查发现当事人位于{place}未将医疗废物按照类别分置于专用包装物中。",
                "《医疗废物管理条例》第四十六条"),
        Penalty("P", None, "其他", "未取得医师执业证书非法行医",
                "{d}，卫生健康监督员检查发现当事人在{area}未取得医师执业证书擅自开展诊疗活动，违法所得{gain}元。",
                "《中华人民共和国医师法》第五十九条"),
    ),
    "SCRS": (
        Penalty(ORGS, ind("construction", "hr", "manufacturing", "hotel"), "其他",
                "拖欠劳动者劳动报酬经责令限期支付逾期未支付",
                "经查，当事人拖欠{n}名劳动者劳动报酬共计{value}元，经责令限期支付逾期仍未支付。",
                "《劳动保障监察条例》第二十六条；《保障农民工工资支付条例》第五十四条"),
        Penalty("E", ind("hr",), "其他", "未经许可擅自经营劳务派遣业务",
                "经查，当事人未取得劳务派遣经营许可，向{n}家用工单位派遣劳动者，违法所得{gain}元。",
                "《中华人民共和国劳动合同法》第九十二条第一款"),
    ),
    "SCWL": (
        Penalty("E", ind("hotel", "culture"), "其他", "旅行社未与旅游者签订旅游合同",
                "{d}，执法人员检查发现当事人组织{n}名旅游者出游未签订书面旅游合同。",
                "《中华人民共和国旅游法》第九十六条第一款第（四）项"),
    ),
    "SCNY": (
        Penalty(ORGS, ind("agriculture",), "其他", "经营假农药",
                "{d}，执法人员检查发现当事人位于{place}经营的{goods}经检测有效成分含量不合格，共{n}瓶，货值金额{value}元。",
                "《农药管理条例》第五十六条第一款", "农药经营许可证"),
    ),
}  # fmt: skip

GOODS = {
    "食品药品": ("预包装食品", "散装白酒", "冷冻肉品", "饮料", "调味品", "糕点", "乳制品"),
    "市场监管": ("电线电缆", "儿童玩具", "电动自行车", "家用电器", "建筑用钢筋", "服装", "箱包"),
    "税务": ("增值税", "企业所得税", "个人所得税", "城市维护建设税"),
    "其他": ("农药", "化肥", "种子"),
}

LICENCES: dict[str, tuple[Licence, ...]] = {
    "MR": (
        Licence(ORGS, FOOD, "食品经营许可决定书", "普通", "食品经营许可证", "JY",
                ("预包装食品（含冷藏冷冻食品）销售；散装食品（不含冷藏冷冻食品）销售", "热食类食品制售；冷食类食品制售",
                 "预包装食品销售；特殊食品销售（保健食品）"), 5),
        Licence(ORGS, ind("food", "agriculture"), "食品生产许可决定书", "普通", "食品生产许可证", "SC",
                ("糕点（热加工糕点）", "调味品（半固态调味料）", "茶叶及相关制品（绿茶）", "酒类（白酒）", "方便食品"), 5),
        Licence("E", ind("manufacturing", "chemical", "construction"), "工业产品生产许可决定书", "普通",
                "全国工业产品生产许可证", "GY", ("建筑用钢筋", "危险化学品（涂料）", "电线电缆", "水泥"), 5),
        Licence("E", ind("manufacturing", "construction"), "特种设备生产许可决定书", "普通", "特种设备生产许可证", "TS",
                ("电梯安装（含修理）", "起重机械安装（含修理）", "压力管道安装"), 4),
        Licence(ORGS, ind("pharma", "medical"), "药品经营许可决定书", "普通", "药品经营许可证", "YP",
                ("中药饮片、中成药、化学药制剂、抗生素制剂、生化药品（零售）",), 5),
        Licence(ORGS, None, "准予变更登记通知书", "登记", "营业执照", "",
                ("变更住所", "变更经营范围", "变更注册资本", "变更法定代表人"), 0),
    ),
    "SCYJJ": (
        Licence("E", ind("pharma",), "药品经营许可决定书", "普通", "药品经营许可证", "YP",
                ("中药饮片、中成药、化学药、生物制品（批发）",), 5),
    ),
    "SCSTHJ": (
        Licence("E", PLANTS, "排污许可决定书", "普通", "排污许可证", "PW",
                ("排放大气污染物：颗粒物、二氧化硫、氮氧化物", "排放水污染物：化学需氧量、氨氮、总磷"), 5),
        Licence("E", ind("environment", "chemical"), "危险废物经营许可决定书", "普通", "危险废物经营许可证", "WF",
                ("收集、贮存、利用HW08废矿物油与含矿物油废物", "收集、贮存HW49其他废物"), 5),
        Licence("E", ind("medical",), "辐射安全许可决定书", "普通", "辐射安全许可证", "FS",
                ("使用Ⅲ类射线装置",), 5),
    ),
    "SCYJ": (
        Licence("E", ind("chemical", "manufacturing"), "安全生产许可决定书", "普通", "安全生产许可证", "AX",
                ("危险化学品生产", "非煤矿山开采"), 3),
        Licence(ORGS, ind("chemical", "retail"), "危险化学品经营许可决定书", "普通", "危险化学品经营许可证", "WH",
                ("汽油、柴油（闭杯闪点≤60℃）零售", "工业气体（不带储存设施）批发"), 3),
    ),
    "SCZJ": (
        Licence("E", ind("construction",), "建筑业企业资质许可决定书", "普通", "建筑业企业资质证书", "ZZ",
                ("建筑工程施工总承包贰级", "市政公用工程施工总承包叁级", "建筑装修装饰工程专业承包贰级"), 5),
        Licence("E", ind("construction",), "安全生产许可决定书", "普通", "安全生产许可证", "JZ", ("建筑施工",), 3),
        Licence("E", ind("realestate",), "房地产开发企业资质核定决定书", "核准", "房地产开发企业资质证书", "FD",
                ("房地产开发二级资质",), 3),
    ),
    "SCJT": (
        Licence(ORGS, ind("logistics",), "道路运输经营许可决定书", "普通", "道路运输经营许可证", "DY",
                ("道路普通货物运输", "道路普通货物运输；货物专用运输（集装箱）", "道路旅客运输（县内班车客运）"), 4),
        Licence("P", None, "道路运输从业人员从业资格认定决定书", "认可", "道路运输从业人员从业资格证", "CY",
                ("经营性道路货物运输驾驶员", "经营性道路旅客运输驾驶员", "道路危险货物运输驾驶员"), 6),
    ),
    "SCWJ": (
        Licence(ORGS, ind("medical",), "医疗机构执业许可决定书", "普通", "医疗机构执业许可证", "YL",
                ("内科；外科；妇产科；儿科；医学检验科", "中医科；口腔科", "全科医疗科"), 5),
        Licence(ORGS, ind("hotel", "culture", "retail"), "公共场所卫生许可决定书", "普通", "公共场所卫生许可证", "GC",
                ("住宿场所", "美容美发场所", "游泳场所", "商场（店）"), 4),
        Licence("P", None, "医师执业注册决定书", "认可", "医师执业证书", "YS",
                ("执业类别：临床；执业范围：内科专业", "执业类别：中医；执业范围：中医专业", "执业类别：口腔；执业范围：口腔专业"), 0),
    ),
    "SCXF": (
        Licence(ORGS, ind("hotel", "culture", "retail", "food"), "公众聚集场所投入使用、营业前消防安全检查决定书", "普通",
                "公众聚集场所投入使用、营业前消防安全检查合格证", "XF", ("宾馆、饭店", "商场、集贸市场", "歌舞娱乐场所"), 0),
    ),
    "SCRS": (
        Licence("E", ind("hr",), "劳务派遣经营许可决定书", "普通", "劳务派遣经营许可证", "LP", ("劳务派遣",), 3),
        Licence("E", ind("hr",), "人力资源服务许可决定书", "普通", "人力资源服务许可证", "RL",
                ("职业中介活动", "人力资源供求信息的收集和发布"), 5),
    ),
    "SCTAX": (
        Licence("E", None, "准予税务行政许可决定书", "普通", "", "",
                ("增值税专用发票（增值税税控系统）最高开票限额审批：十万元", "增值税专用发票（增值税税控系统）最高开票限额审批：一百万元"), 0),
    ),
    "SCCZ": (
        Licence("E", ind("culture", "tech"), "代理记账许可决定书", "普通", "代理记账许可证书", "DL", ("代理记账业务",), 0),
    ),
    "SCFGW": (
        Licence("E", ind("manufacturing", "chemical", "environment", "realestate"), "企业投资项目核准决定书", "核准", "", "",
                ("{project}项目核准",), 2),
    ),
    "SCWL": (
        Licence("E", ind("hotel",), "旅行社业务经营许可决定书", "普通", "旅行社业务经营许可证", "LS",
                ("国内旅游业务和入境旅游业务",), 0),
    ),
    "SCNY": (
        Licence(ORGS, ind("agriculture",), "农药经营许可决定书", "普通", "农药经营许可证", "NY", ("农药（不含限制使用农药）经营",), 5),
    ),
}  # fmt: skip

PROJECTS = (
    "年产5万吨新型建材",
    "年产10万吨精细化工",
    "智能制造产业园",
    "污水处理厂扩建",
    "城市更新住宅",
    "光伏组件生产线",
)

INSPECTIONS: dict[str, tuple[Inspection, ...]] = {
    "MR": (
        Inspection(ORGS, None, ("双随机抽查", "双随机抽查", "双随机抽查", "专项检查", "投诉举报核查"),
                   ("企业公示信息情况检查；登记事项检查", "年度报告公示信息检查", "营业执照（登记证）规范使用情况检查")),
        Inspection(ORGS, FOOD, ("双随机抽查", "重点检查", "专项检查"),
                   ("食品经营者落实食品安全主体责任情况检查", "食品生产企业监督检查")),
        Inspection("E", ind("manufacturing", "chemical", "realestate", "hotel"), ("重点检查", "双随机抽查"),
                   ("特种设备使用单位监督检查",)),
        Inspection(ORGS, ind("pharma", "medical"), ("双随机抽查", "专项检查"), ("药品零售企业监督检查",)),
    ),
    "SCSTHJ": (Inspection("E", PLANTS, ("双随机抽查", "专项检查"), ("排污许可证执行情况检查", "污染防治设施运行情况检查")),),
    "SCYJ": (Inspection("E", ind("chemical", "manufacturing", "construction"), ("重点检查", "专项检查"),
                        ("安全生产主体责任落实情况检查", "危险化学品安全专项检查")),),
    "SCXF": (Inspection(ORGS, VENUES, ("双随机抽查", "专项检查"), ("消防安全检查（消防设施器材、疏散通道）",)),),
    "SCZJ": (Inspection("E", ind("construction", "realestate"), ("双随机抽查", "专项检查"), ("建筑施工安全质量检查",)),),
    "SCWJ": (Inspection(ORGS, ind("medical", "hotel", "culture"), ("双随机抽查",), ("医疗机构依法执业检查", "公共场所卫生监督检查")),),
    "SCJT": (Inspection(ORGS, ind("logistics",), ("双随机抽查", "重点检查"), ("道路运输企业安全生产检查",)),),
    "SCRS": (Inspection(ORGS, ind("construction", "hr", "manufacturing"), ("双随机抽查", "投诉举报核查"),
                        ("劳动保障监察（工资支付、劳动合同）",)),),
}  # fmt: skip
INSPECTION_RESULTS = (
    ("未发现问题", 70), ("发现问题已责令改正", 15), ("未按规定公示年报", 5), ("通过登记的住所无法联系", 5),
    ("发现问题已立案", 3), ("不配合检查情节严重", 0.5), ("其他", 1.5),
)  # fmt: skip

ENFORCEMENTS: dict[str, tuple[Enforcement, ...]] = {
    "MR": (
        Enforcement(ORGS, None, "查封场所设施或者财物", "对当事人涉嫌生产不合格产品的生产设备及库存产品予以查封，期限三十日。"),
        Enforcement(ORGS, FOOD, "扣押财物", "对当事人涉嫌不符合食品安全标准的{goods}予以扣押，期限三十日。"),
    ),
    "SCSTHJ": (Enforcement("E", PLANTS, "查封场所设施或者财物", "对当事人超标排放污染物的生产设施予以查封，期限三十日。"),),
    "SCYJ": (Enforcement("E", ind("chemical", "manufacturing"), "查封场所设施或者财物",
                         "对当事人存在重大事故隐患的危险化学品储存场所予以查封。"),),
    "SCTAX": (
        Enforcement(ORGS, None, "冻结存款汇款", "冻结当事人在银行的存款，金额相当于应纳税款{amount}元。"),
        Enforcement(ORGS, None, "加处罚款或者滞纳金", "自滞纳税款之日起，按日加收滞纳税款万分之五的滞纳金。"),
        Enforcement("P", None, "划拨存款汇款", "从当事人银行存款中扣缴税款及滞纳金{amount}元。"),
    ),
    "SCJT": (Enforcement("EP", ind("logistics",), "扣押财物", "对当事人涉嫌非法营运的车辆予以扣押，期限三十日。"),),
}  # fmt: skip

CONFIRMATIONS: dict[str, tuple[Confirmation, ...]] = {
    "SCRS": (Confirmation(ORGS, None, "工伤认定", "职工{person}于{d}在工作中受伤，符合《工伤保险条例》第十四条第（一）项规定，予以认定为工伤。", 0),),
    "SCTAX": (Confirmation("E", None, "纳税信用等级评定", "{year}年度纳税信用等级评定为A级", 1),),
    "SCZJ": (Confirmation("E", ind("construction", "realestate"), "建设工程竣工验收备案", "{project}项目竣工验收备案", 0),),
    "MR": (Confirmation("E", ind("manufacturing", "food", "tech"), "企业标准自我声明公开确认", "产品执行企业标准自我声明公开", 3),),
}  # fmt: skip

HONOURS: dict[str, tuple[Honour, ...]] = {
    "MR": (Honour(ORGS, None, "守合同重信用企业", ("省级", "市级", "市级", "国家级")),),
    "SCFGW": (Honour("E", None, "四川省诚信建设示范企业", ("省级",)),),
    "SCZJ": (Honour("E", ind("construction",), "四川省建设工程天府杯金奖", ("省级",)),),
    "SCJT": (Honour("E", ind("logistics",), "四川省道路运输诚信考核AAA级企业", ("省级",)),),
    "SCRS": (
        Honour("P", None, "四川省技术能手", ("省级",)),
        Honour("P", None, "四川省劳动模范", ("省级",)),
    ),
    "SCWJ": (Honour("P", None, "四川省卫生健康系统先进个人", ("省级", "市级")),),
    "SCTAX": (Honour("E", None, "诚信纳税示范企业", ("省级", "市级")),),
}  # fmt: skip

COMMITMENTS: dict[str, tuple[Commitment, ...]] = {
    "MR": (
        Commitment(ORGS, FOOD, "审批替代型", "食品经营许可告知承诺",
                   "本单位承诺已具备食品经营许可的法定条件，所填写的信息真实、准确，愿意承担不实承诺的法律责任。"),
        Commitment(ORGS, None, "主动公示型", "市场主体诚信经营承诺",
                   "本单位承诺依法诚信经营，按时公示年度报告，自觉接受社会监督。"),
    ),
    "SCFGW": (
        Commitment("EIP", None, "信用修复型", "申请行政处罚信息信用修复",
                   "本单位（本人）承诺已履行行政处罚决定规定的义务，纠正了失信行为，今后严格遵守法律法规。"),
        Commitment("G", None, "主动公示型", "政务诚信承诺",
                   "本机关承诺依法履行政府合同，不拖欠市场主体账款，严格执行生效法律文书。"),
    ),
    "SCZJ": (Commitment("E", ind("construction", "realestate"), "审批替代型", "建设工程施工许可告知承诺",
                        "本单位承诺施工图审查、资金落实等施工许可条件已具备，承担不实承诺的法律责任。"),),
    "SCJT": (
        Commitment(ORGS, ind("logistics",), "容缺受理型", "道路运输经营许可容缺受理",
                   "本单位承诺在二十个工作日内补齐车辆技术等级评定材料，逾期未补齐的自愿撤回申请。"),
        Commitment("P", None, "行业自律型", "道路运输从业人员诚信承诺", "本人承诺安全驾驶、诚信经营，遵守道路运输相关法律法规。"),
    ),
    "SCCZ": (Commitment("E", None, "行业自律型", "政府采购供应商信用承诺",
                        "本单位承诺参加政府采购活动前三年内在经营活动中没有重大违法记录，依法缴纳税收和社会保障资金。"),),
    "SCWJ": (Commitment(ORGS, ind("medical", "hotel"), "审批替代型", "公共场所卫生许可告知承诺",
                        "本单位承诺经营场所符合卫生规范要求，从业人员持有效健康合格证明。"),),
}  # fmt: skip

DISHONEST_BEHAVIOURS = (
    ("有履行能力而拒不履行生效法律文书确定义务", 60),
    ("违反财产报告制度", 20),
    ("违反限制消费令", 12),
    ("以伪造证据、暴力、威胁等方法妨碍、抗拒执行", 4),
    ("无正当理由拒不履行执行和解协议", 4),
)  # fmt: skip
OBLIGATIONS = (
    "被执行人{who}应于判决生效之日起十日内支付申请执行人{creditor}货款{amount}元及逾期付款利息。",
    "被执行人{who}应向申请执行人{creditor}偿还借款本金{amount}元及利息。",
    "被执行人{who}应支付申请执行人{creditor}工程款{amount}元。",
    "被执行人{who}应向申请执行人{creditor}支付劳动报酬{amount}元。",
)
JYYC_REASONS = (
    ("未按规定公示年度报告", 70), ("通过登记的住所或者经营场所无法联系", 20),
    ("未在责令期限内公示有关企业信息", 6), ("公示企业信息隐瞒真实情况弄虚作假", 4),
)  # fmt: skip
JYYC_REMOVALS = {
    "未按规定公示年度报告": "补报未报年份的年度报告并公示",
    "通过登记的住所或者经营场所无法联系": "依法办理住所或者经营场所变更登记",
    "未在责令期限内公示有关企业信息": "公示相关企业信息",
    "公示企业信息隐瞒真实情况弄虚作假": "更正其公示的信息",
}
TAX_TYPES = ("增值税", "企业所得税", "个人所得税", "城市维护建设税", "房产税", "城镇土地使用税", "印花税")
INSURANCE_TYPES = ("养老保险", "医疗保险", "失业保险", "工伤保险", "生育保险")
