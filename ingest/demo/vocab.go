package demo

// The vocabularies below are read-only tables. Text uses roles, agencies and
// the seed's pseudonyms ("Ms A", "Child C"); it never holds a real-looking
// name, date, address or number that the validator's screen would refuse.
//
// Template slots: {mother} {father} {child} {child2} {role} {agency}
// {role2} {agency2} {n} {body}; a capitalised slot ({Role}, {Agency})
// capitalises its first letter.

// Nations whose wording differs; other nation codes use England's.
const (
	natENG = iota
	natWLS
	natSCT
	natNIR
)

func nationIndex(code string) int {
	switch code {
	case "WLS":
		return natWLS
	case "SCT":
		return natSCT
	case "NIR":
		return natNIR
	}
	return natENG
}

type agency struct {
	key   string
	names [4]string // by nation index
	roles []string  // the first front roles do the direct work episodes describe
	front int
}

func same(s string) [4]string { return [4]string{s, s, s, s} }

var agencies = []agency{
	{"social", [4]string{"Children's social care", "Children's services", "Children's social work services", "Health and Social Care Trust children's services"},
		[]string{"Social worker", "Senior practitioner", "Newly qualified social worker", "Team manager", "Child protection conference chair"}, 3},
	{"hv", same("Health visiting"), []string{"Health visitor", "Named nurse for safeguarding", "Community nursery nurse"}, 0},
	{"midwife", same("Midwifery"), []string{"Community midwife", "Safeguarding midwife"}, 0},
	{"gp", same("General practice"), []string{"General practitioner", "Practice nurse", "Practice safeguarding lead"}, 0},
	{"police", same("Police"), []string{"Police constable", "Detective constable", "Detective sergeant", "Public protection officer"}, 0},
	{"primary", same("Primary school"), []string{"Class teacher", "Designated safeguarding lead", "Head teacher", "Family liaison worker"}, 0},
	{"secondary", same("Secondary school"), []string{"Head of year", "Designated safeguarding lead", "Pastoral lead", "Attendance officer"}, 0},
	{"nursery", same("Nursery"), []string{"Nursery manager", "Key worker"}, 0},
	{"ed", same("Emergency department"), []string{"Emergency department nurse", "Emergency department consultant", "Paediatric liaison nurse"}, 0},
	{"paeds", same("Community paediatrics"), []string{"Consultant paediatrician", "Paediatric registrar"}, 0},
	{"camhs", same("Child and adolescent mental health services"), []string{"Mental health nurse", "Clinical psychologist", "Family therapist"}, 0},
	{"amh", same("Adult mental health services"), []string{"Community psychiatric nurse", "Consultant psychiatrist", "Care coordinator"}, 0},
	{"substance", same("Drug and alcohol service"), []string{"Recovery worker", "Team leader"}, 0},
	{"housing", [4]string{"Housing services", "Housing services", "Housing services", "Housing Executive"}, []string{"Housing officer", "Homelessness caseworker"}, 0},
	{"earlyhelp", [4]string{"Early help", "Families First", "Family support service", "Family support hub"}, []string{"Family support worker", "Early help coordinator", "Parenting practitioner"}, 0},
	{"yj", [4]string{"Youth justice service", "Youth justice service", "Youth justice social work", "Youth Justice Agency"}, []string{"Youth justice officer", "Case manager"}, 0},
	{"da", same("Domestic abuse service"), []string{"Independent domestic violence adviser", "Outreach worker"}, 0},
	{"probation", [4]string{"Probation service", "Probation service", "Justice social work", "Probation Board"}, []string{"Probation officer", "Senior probation officer"}, 0},
	{"edt", [4]string{"Emergency duty team", "Emergency duty team", "Out-of-hours social work", "Regional emergency social work service"}, []string{"Out-of-hours social worker"}, 0},
}

// bodies names the body that owns a review, by nation index, as text uses it.
var bodies = [4]string{"safeguarding partnership", "regional safeguarding board", "child protection committee", "safeguarding panel"}

// nationals names where national-level recommendations go, by nation index.
var nationals = [4]string{"the national Child Safeguarding Practice Review Panel", "the Welsh Government", "the Scottish Government", "the Department of Health"}

// scenario is a key practice episode as reviews typically describe it.
type scenario struct {
	agency, agency2 string
	title           string
	good            string // description when practice was good
	problematic     string // description when it was problematic
	sigGood         string
	sigProblematic  string
}

var scenarios = []scenario{
	{"social", "", "Initial assessment after a referral",
		"The {role} visited {mother} and the children {n} times over three weeks, saw each child alone and spoke to the school before completing the assessment.",
		"The {role} visited once and found the home tidy on the day and {mother} engaged and positive. With several other assessments due, the assessment was closed with advice.",
		"The assessment gave a full picture of the children's daily lives and became the basis of the plan that followed.",
		"With hindsight the single visit gave a partial picture; what other agencies knew was not sought."},
	{"hv", "", "Health visitor's new birth visit",
		"At the new birth visit the {role} asked {mother} about her mood and support at home, and arranged an early follow-up when she said she felt low.",
		"At the new birth visit {mother} said things were fine. The {role} told the review she had {n} visits that day and did not ask about the adults living in the home.",
		"The early follow-up meant that support was in place before the family's difficulties grew.",
		"The presence of {father} in the household was not known to health services for several months."},
	{"primary", "social", "School raises concerns about attendance",
		"The {role} noticed that {child}'s attendance had fallen, met {mother} and, when the explanation did not fit, rang {agency2} for advice.",
		"The school recorded a fall in {child}'s attendance over a term and sent letters home, but did not contact {agency2} because attendance alone did not seem to meet the threshold.",
		"The call led to a joint visit and an early help plan that {mother} said made a difference.",
		"{Agency2} did not know of the attendance pattern when it made its own decisions."},
	{"police", "social", "Strategy discussion after a disclosure",
		"The {role} and a {role2} held a strategy discussion on the day {child} spoke to a teacher, agreed who would visit and shared what each agency knew.",
		"The strategy discussion was held by telephone between the {role} and the {role2}; health and the school were not invited and their information was not heard.",
		"The discussion set a clear plan that protected {child} while enquiries were made.",
		"Decisions were made without the information that health and the school held."},
	{"social", "", "Initial child protection conference",
		"The conference heard from every agency, {mother} attended with an advocate and the plan set out what needed to change and by when.",
		"The conference was held with reports from only two agencies. The {role} said the plan was written quickly and its outcomes were not specific.",
		"The plan gave everyone a shared understanding of the risks and of what was expected.",
		"A plan without clear outcomes made it hard later to tell whether anything had changed."},
	{"ed", "social", "Emergency department attendance with an injury",
		"The {role} noticed that the explanation for {child}'s injury did not fit the child's age, followed the hospital protocol and referred to {agency2} the same day.",
		"{Child} was seen in the emergency department with a minor injury late at night. The {role} accepted {mother}'s explanation and the attendance was not shared with the health visitor.",
		"The referral started enquiries that found earlier injuries had not been seen by professionals.",
		"This was the second attendance in a few months, and no one saw the two together."},
	{"gp", "", "GP consultation about a parent's mental health",
		"The {role} asked {mother} who looked after the children when she was unwell and, with her agreement, told the health visitor about the change in medication.",
		"{Mother} saw the {role} about low mood and was prescribed medication. The record did not mention the children and no one else was told.",
		"Sharing this gave the health visitor a reason to offer extra visits.",
		"The link between a parent's mental health and the care of the children was not made."},
	{"camhs", "", "Referral to child and adolescent mental health services",
		"The {role} offered {child} an appointment within weeks, kept in touch with the school while {child} waited, and met the child at school when home visits were refused.",
		"The referral for {child} was not accepted because it did not meet the service's criteria. The letter back to the referrer did not say what else might help.",
		"{Child} later said that this worker was the first adult who had listened.",
		"{Child} went without specialist help for several months at a time of rising distress."},
	{"police", "social", "Police attend a domestic abuse incident",
		"Officers attended, spoke to {child} separately, completed the risk assessment with {mother} and shared a notification with {agency2} the next morning.",
		"Officers attended a report of shouting. {Father} had left before they arrived and the incident was recorded as verbal only; the children were not seen.",
		"The notification meant {agency2} could link this incident to earlier concerns.",
		"The children's experience of the incident was not recorded and the notification was graded as low risk."},
	{"social", "", "Core group reviews the plan",
		"The core group met every few weeks, checked each action against the plan and changed the plan when {mother} stopped attending appointments.",
		"Core group meetings were held, but the {role} said they mostly shared updates; no one asked whether the plan was working.",
		"Reviewing the plan together kept the focus on whether things were changing for the children.",
		"Early signs that the plan was not working were not acted upon."},
	{"social", "", "Case transferred between teams",
		"The transfer was held as a joint visit, with a written summary of the history and a handover discussion with the new {role}.",
		"The case moved to a new team after the assessment. The new {role} said the summary was brief and there was a gap of several weeks before the first visit.",
		"The family did not have to tell their story again and the new worker understood the history.",
		"The history of concern was not carried over, so each worker started afresh."},
	{"housing", "social", "Move to temporary accommodation",
		"The {role} told {agency2} about the family's move and made sure school transport was arranged, so that {child} did not miss school.",
		"The family moved into temporary accommodation some distance away. The {role} did not know there was a plan for the children and no agency was told of the move.",
		"Agencies kept track of the family through a period of upheaval.",
		"For several weeks no professional knew where the children were living."},
	{"earlyhelp", "", "Early help assessment and team around the family",
		"The {role} worked with {mother} to write the family's own plan and brought the school, health visitor and housing together every month.",
		"An early help assessment was completed but {mother} did not attend the team around the family meetings, and the case was closed for non-engagement.",
		"{Mother} told the review that this was the first time she had felt listened to.",
		"Closing for non-engagement removed the one service that saw the family regularly."},
	{"midwife", "", "Antenatal booking appointment",
		"At the booking appointment the {role} asked routine questions about domestic abuse when {mother} was seen alone, and she disclosed past abuse by an earlier partner.",
		"At the booking appointment {father} was present throughout, so the routine question about domestic abuse was not asked, and the record did not say why.",
		"The disclosure allowed a safety plan to be made before the baby arrived.",
		"The chance to ask about abuse was lost and was not taken up at later appointments."},
	{"nursery", "social", "Nursery notices changes in a child's presentation",
		"The {role} recorded that {child} was often hungry and in the same clothes, discussed this with the manager and made a referral with a clear chronology.",
		"Staff noticed that {child} was often hungry and tired. The {role} spoke to {mother}, who said money was tight, and offered food, but did not record the concern or refer.",
		"The chronology helped {agency2} see a pattern rather than a single incident.",
		"The nursery's knowledge of the child's daily care did not reach other agencies."},
	{"da", "police", "Multi-agency risk assessment conference",
		"The conference shared information from every agency and agreed a safety plan with the {role}, who stayed in touch with {mother} throughout.",
		"The case was discussed at the risk assessment conference in a few minutes among many others; the children were mentioned only as living in the household.",
		"{Mother} said the safety plan was realistic and she used it.",
		"The children's needs were not considered separately from their mother's safety."},
	{"probation", "social", "Probation supervision of a parent's partner",
		"The {role} asked {father} about his contact with children and checked with {agency2} when he mentioned a new partner with young children.",
		"{Father} told the {role} he lived alone. The {role} did not check this and was not aware that he spent most nights at the family home.",
		"The check led to a timely assessment of the risk he posed to the children.",
		"The risk known to probation was not connected to the children's household."},
	{"substance", "", "Substance misuse worker's home visit",
		"The {role} visited at home, saw where the children slept and discussed a safe storage plan for medication with {mother}.",
		"Appointments were held at the service's office and the {role} never saw the home. {Mother} said the children stayed with a relative when she used.",
		"Seeing the home made the children's safety part of the treatment plan.",
		"The service's picture of the home came only from what {mother} told them."},
	{"paeds", "social", "Paediatric assessment of bruising",
		"The {role} examined {child} the same day, documented the bruising with body maps and explained clearly to {agency2} what could and could not be concluded.",
		"The paediatric assessment was arranged several days after the bruising was seen. The {role} said that by then the marks had faded and an opinion was hard to give.",
		"A clear medical opinion gave the strategy meeting a firm basis for its decisions.",
		"Without a timely opinion, agencies were left unsure how the bruising had been caused."},
	{"social", "", "Step down from a child protection plan",
		"The review conference agreed to step down only after checking the evidence of change with every agency, and set a clear plan of support to follow.",
		"The plan was ended at a review conference because {mother} had engaged well for several weeks. The school, which had continuing concerns, sent no report.",
		"The support that followed kept the changes going after the plan ended.",
		"Engagement was taken as evidence of change, and the support around the family fell away."},
	{"gp", "hv", "Missed health appointments followed up",
		"The practice's system flagged that {child} had missed immunisations; the {role} rang {mother} and told the health visitor, who visited that week.",
		"{Child} missed several health appointments. Each was recorded as was not brought, but no one looked at the pattern or told the health visitor.",
		"The follow-up found a family under strain and support was offered early.",
		"A pattern of missed appointments that suggested neglect was not recognised."},
	{"yj", "social", "Youth justice worker's contact with a teenager",
		"The {role} saw {child} weekly, noticed new clothes and a second phone and shared a concern about exploitation with the police and {agency2}.",
		"The {role} focused on the order's requirements. {Child}'s frequent absences from home were noted but seen as part of the offending behaviour.",
		"Recognising exploitation changed how every agency responded to {child}.",
		"{Child} was seen as an offender rather than as a child at risk of exploitation."},
	{"secondary", "", "Pastoral support at secondary school",
		"The {role} met {child} every week, learned about the situation at home and asked the designated safeguarding lead to seek advice.",
		"{Child}'s behaviour at school deteriorated and led to exclusions. The {role} said the focus was on behaviour and no one asked what was happening at home.",
		"{Child} had a trusted adult at school through a difficult year.",
		"The meaning of the change in behaviour was missed."},
	{"social", "", "Supervision discussion of a long-running case",
		"In supervision the {role} and her manager stood back from the case, listed what had changed since the plan began, and decided to seek legal advice.",
		"Supervision of the case was brief and mostly checked that tasks were done. The {role} said there was no time to think about the history as a whole.",
		"Standing back showed that little had changed for the children despite years of involvement.",
		"The accumulation of concerns over time was not seen."},
	{"edt", "police", "Out-of-hours call about the children's safety",
		"The {role} checked the records, spoke to the police and agreed a welfare visit the same night, and left a clear note for the day team.",
		"A neighbour's call was taken out of hours. The {role} had no access to the day team's records and advised the caller to contact the police if worried.",
		"The day team could act first thing because of the handover note.",
		"Information from the night did not reach the day team for several days."},
	{"amh", "social", "Discharge planning after a parent's hospital admission",
		"Before {mother} left hospital the {role} held a discharge meeting with {agency2} and agreed who would visit the children in the first week.",
		"{Mother} was discharged from a mental health ward at a weekend. The {role} did not know she had children at home and {agency2} was not told.",
		"The children's care was planned alongside their mother's recovery.",
		"The children were at home with an unwell parent and no agency knew."},
	{"social", "", "Information shared when the family moved area",
		"Before the move the {role} rang the new area, sent the records and arranged a joint visit, so the plan continued without a gap.",
		"The family moved between areas while an assessment was open. The {role} sent a transfer letter, but the new area did not open the case for several weeks.",
		"The continuity meant the family did not fall between two areas.",
		"Neither area held responsibility for the children during the transfer."},
	{"police", "", "Teenager reported missing from home",
		"After {child} returned, an independent return interview was held; {child} described who the adults were and a plan to disrupt the contact was made.",
		"{Child} was reported missing several times and found each time within a day. The return interviews were offered but not taken up, and the reports were not linked.",
		"The return interview opened a route for {child} to talk about what was happening.",
		"Repeated missing episodes were handled one at a time rather than as a pattern."},
	{"social", "", "Parental capacity assessment commissioned",
		"The {role} commissioned a specialist assessment of {mother}'s capacity to change, agreed timescales with her and shared the findings with the core group.",
		"A specialist assessment was requested but the {role} said there was no budget for it; after several months it was completed by the allocated worker alongside other work.",
		"The assessment gave the plan a realistic view of what change was possible.",
		"Decisions about the children waited on an assessment that was never properly resourced."},
	{"hv", "social", "Health visitor escalates concerns",
		"The {role} raised weight loss in {child2} at safeguarding supervision and was supported to make a fresh referral with a written chronology.",
		"The {role} had concerns about {child2}'s weight but said that an earlier referral had been closed, so she continued to monitor without escalating.",
		"The fresh referral led to the strategy discussion that brought agencies together.",
		"The concern stayed within one agency while the child's condition worsened."},
	{"social", "", "Direct work with the children",
		"The {role} used drawings and a three houses tool with {child} and {child2}, and their words shaped the plan.",
		"The children were seen on most visits but usually with {mother} present. The {role} said there was little time for direct work.",
		"The children's own accounts were heard and recorded.",
		"What daily life was like for the children was not known."},
	{"social", "police", "Joint visit after a referral about a partner",
		"The {role} and a police officer visited together, explained the concerns to {mother} and agreed a written safety agreement with her.",
		"A referral said that {father}, who had convictions for violence, had moved in. The {role} accepted {mother}'s statement that he had left, without checking.",
		"{Mother} understood what the concern was and what was expected of her.",
		"The risk from the new partner was not assessed."},
}

// mixedTails follow a good description when reviewers judged practice mixed.
var mixedTails = []string{
	"However, the record did not say what had changed since the previous contact.",
	"However, the decision was not shared with the other agencies involved.",
	"However, the children's own views were not recorded.",
	"However, the follow-up that was agreed did not happen.",
	"However, the concerns of {father} were not explored.",
	"However, the plan depended on a service with a long waiting list.",
}

// notJudgedSignificance is used where reviewers did not judge practice.
var notJudgedSignificance = []string{
	"The reviewers did not judge this practice because the records and the conversations gave different accounts.",
	"The reviewers did not judge this practice because the practitioners involved had left and could not be spoken to.",
	"The reviewers recorded this episode for context and did not judge the practice in it.",
}

// evidenceNotes describe documents and conversations episodes draw on.
var evidenceDocuments = []string{"Assessment record", "Case notes", "Chronology", "Referral form", "Conference minutes", "Core group notes", "Health records", "Police incident log", "Supervision record", "School safeguarding file", "Discharge summary", "Transfer summary"}

// questions start reviews of each kind.
var questions = map[string][]string{
	"statutory": {
		"Why was the risk of serious harm to {child} not recognised sooner?",
		"How did agencies share what they knew about the family once concerns were raised?",
		"What helped and what hindered professionals in seeing the children's daily experience?",
		"How well did agencies respond to the repeated concerns about neglect?",
		"Why did the plan for {child} not lead to change for the children?",
	},
	"routine": {
		"How well does the multi-agency response to referrals about neglect work in ordinary cases?",
		"What happens to notifications of domestic abuse incidents where children live in the household?",
		"How do agencies work together when families move between areas?",
		"How are children's views gathered and used in child in need plans?",
	},
	"innovation": {
		"What helped and what hindered the introduction of the multi-agency safeguarding hub?",
		"How has the new model of practice changed the way social workers and families work together?",
		"What has the pilot of co-located early help teams changed for families?",
		"How has the new electronic case record changed the recording of risk?",
	},
	"positive": {
		"What made the support the family described as helpful work well?",
		"Why did this plan lead to lasting change when earlier plans had not?",
		"What conditions allowed professionals to build trusting relationships with the family?",
	},
}

var coderRoles = []string{"Lead reviewer", "Independent reviewer", "Review team member", "Partnership business manager", "Quality assurance officer", "Learning and development lead"}

// factorDetail holds details for a factor when it supported good practice and
// when it made problematic practice more likely.
type factorDetail struct{ good, problematic []string }

var factorDetails = map[string]factorDetail{
	"FL.FAM.01":   {[]string{"The nature of the concerns was clear and a suitable service was available."}, []string{"The family's needs were complex and no single service fitted them.", "Professionals did not agree on whether this was neglect or poverty."}},
	"FL.FAM.02":   {[]string{"The family's long history was known and used to plan support."}, []string{"The family had been known to services for years and concerns had become normal.", "Long involvement meant each new concern was measured against a low baseline."}},
	"FL.FAM.03":   {[]string{"{Mother} named the problem herself and asked for help."}, []string{"{Mother} did not see the situation as a problem and professionals deferred to her view."}},
	"FL.FAM.04":   {[]string{"{Mother} was open about her difficulties and asked for help."}, []string{"{Mother} presented as help seeking and cooperative, which reassured workers.", "{Father} was hostile on visits and workers kept contact short."}},
	"FL.FAM.05":   {[]string{"{Mother} kept appointments and took part in planning."}, []string{"{Mother} agreed to the plan but engagement was partial and inconsistent.", "The family cancelled visits and were often not at home."}},
	"FL.FAM.06":   {[]string{"A trusting relationship between the {role} and {mother} allowed difficult conversations.", "{Mother} trusted the worker and told her when things got worse."}, []string{"The {role} had a warm relationship with {mother} and found it hard to challenge her."}},
	"FL.FAM.07":   {[]string{"Visits were arranged at times the family could manage."}, []string{"Visits were repeatedly rearranged and the children were seldom seen."}},
	"FL.FAM.08":   {[]string{"Each child's needs were considered separately."}, []string{"With several children, the needs of the youngest were overlooked."}},
	"FL.FAM.09":   {[]string{"All the significant adults were identified and seen."}, []string{"Several adults came and went from the household and not all were known."}},
	"FL.FAM.10":   {[]string{"Workers took time to understand relationships within the wider family."}, []string{"Conflict between family members took up the time available on visits."}},
	"FL.FAM.11":   {[]string{"An interpreter was used for every meeting with {mother}."}, []string{"A family member interpreted on visits, so {mother} could not speak freely."}},
	"FL.FAM.13":   {[]string{"The parents' own experience of care was understood and informed the plan."}, []string{"The parents' own childhood experience of services shaped their mistrust of professionals."}},
	"FL.FAM.14":   {[]string{"Both parents were involved in the assessment."}, []string{"Work focused on {mother}; {father} was not assessed."}},
	"FL.FAM.15":   {[]string{"The child's age and stage were considered in how they were seen."}, []string{"As a teenager, {child} was seen as able to protect themselves."}},
	"FL.STAFF.01": {[]string{"Experienced practitioner confident in her observations.", "The worker had specialist training in neglect and used it."}, []string{"The worker was newly qualified and had not worked with neglect before.", "Limited knowledge of the signs of exploitation."}},
	"FL.STAFF.02": {[]string{"The worker kept an open mind about what might be happening."}, []string{"The worker saw the family as making progress and interpreted new information in that light.", "A mindset of supporting the parent crowded out the child's perspective."}},
	"FL.STAFF.03": {[]string{"The worker weighed the evidence afresh at each visit."}, []string{"The first view of the family was not revisited when new information arrived.", "Each incident was judged on its own rather than as part of a pattern."}},
	"FL.STAFF.04": {[]string{"The worker protected time to read the history before visiting."}, []string{"The worker was dealing with an urgent case elsewhere on the day of the visit."}},
	"FL.STAFF.05": {[]string{"The worker was well supported after a difficult period."}, []string{"The worker was exhausted after months of high caseloads and later went on sick leave."}},
	"FL.STAFF.06": {[]string{"The worker was committed to the family and went beyond what was required.", "A strong motivation to get it right for the children."}, []string{"The worker felt that nothing would change and stopped pressing."}},
	"FL.STAFF.09": {[]string{"A calm, direct style helped {mother} to hear difficult messages."}, []string{"The worker's style avoided conflict, so concerns were softened when raised."}},
	"FL.ROLE.01":  {[]string{"Frequent contact meant changes in the children were noticed quickly."}, []string{"Contact was infrequent and each visit was a snapshot.", "The service's remit allowed only occasional contact with the family."}},
	"FL.ROLE.02":  {[]string{"Visits at home showed the children's living conditions."}, []string{"Contacts were held at the office, so the home was not seen."}},
	"FL.ROLE.03":  {[]string{"The worker kept the children in focus while working with the adults."}, []string{"The focus of the service was the adult, so the children were not in view.", "The focus was on the order's requirements rather than on welfare."}},
	"FL.WORK.01":  {[]string{"A calm atmosphere allowed time for reflection."}, []string{"The case was handled amid a series of urgent crises in the team."}},
	"FL.WORK.02":  {[]string{"The team was fully staffed with a good mix of experience."}, []string{"Vacancies were covered by agency staff who did not know the area.", "Several posts were vacant and the team relied on newly qualified staff."}},
	"FL.WORK.03":  {[]string{"A manageable caseload gave time for thorough work."}, []string{"Twelve assessments open against a team norm of eight.", "Caseloads were well above the agreed level for months.", "The worker held more cases than the service's own standard allowed."}},
	"FL.WORK.04":  {[]string{"The timing allowed a planned response."}, []string{"The referral arrived just before a holiday period with reduced staffing."}},
	"FL.WORK.05":  {[]string{"Administrative support meant minutes were circulated promptly."}, []string{"No minute taker was available, so decisions were not recorded."}},
	"FL.WORK.06":  {[]string{"The manager was available and made time to discuss the case.", "Managers backed the worker's professional judgement."}, []string{"The manager's post was vacant and cover was stretched across teams."}},
	"FL.WORK.07":  {[]string{"Mobile working let the worker record during the visit."}, []string{"Laptops were slow and recording happened days after visits."}},
	"FL.TEAM.01":  {[]string{"Advice from a senior practitioner was available on the day.", "The worker could get advice quickly from the safeguarding lead."}, []string{"The worker did not know who to ask for advice about the threshold."}},
	"FL.TEAM.02":  {[]string{"Monthly safeguarding supervision with a named nurse.", "Reflective supervision helped the worker stand back from the case."}, []string{"Supervision was cancelled twice because of caseload pressure.", "Supervision focused on tasks and timescales rather than reflection.", "Supervision sessions were missed during a period of high demand."}},
	"FL.TEAM.03":  {[]string{"Clear written handovers within the team."}, []string{"Case records did not record the reasons for decisions."}},
	"FL.TEAM.04":  {[]string{"Differences of view in the team were discussed openly."}, []string{"A disagreement within the team about the threshold was not resolved."}},
	"FL.TEAM.06":  {[]string{"A team culture of curiosity and challenge.", "The team valued speaking to children alone."}, []string{"The team culture valued closing cases quickly."}},
	"FL.TEAM.07":  {[]string{"Routine practice was to read the full history before a first visit."}, []string{"It was routine to accept a parent's account without checking it with others."}},
	"FL.TEAM.08":  {[]string{"The team had capacity to hold the case open while checks were made."}, []string{"The team was operating over capacity and was allocating cases by urgency alone."}},
	"FL.IA.01":    {[]string{"Practitioners of every grade felt able to question the plan."}, []string{"The school's view carried less weight at the meeting than the doctor's."}},
	"FL.IA.03":    {[]string{"Roles were clear: each agency knew what it was responsible for."}, []string{"Each agency assumed another was monitoring the children.", "It was unclear who was responsible for coordinating the plan."}},
	"FL.IA.04":    {[]string{"Information was shared promptly and in full.", "The agencies had an agreed route for sharing concerns."}, []string{"No routine channel from school to the assessing worker.", "Information held by health did not reach the assessing worker.", "Incident notifications were not shared with the school."}},
	"FL.IA.05":    {[]string{"The workers knew each other from earlier cases and spoke directly.", "Co-location meant workers could talk face to face."}, []string{"The workers had never met and relied on letters."}},
	"FL.IA.06":    {[]string{"Good working relationships across agencies made challenge possible."}, []string{"Relations between the two services were strained after an earlier dispute."}},
	"FL.IA.08":    {[]string{"Agencies expected to phone each other, not only send forms."}, []string{"Communication across agencies relied on forms with no feedback."}},
	"FL.IA.09":    {[]string{"An inter-agency culture of joint visits."}, []string{"It was accepted practice that referrers were not told the outcome."}},
	"FL.IA.10":    {[]string{"Disagreement was escalated openly through the resolution procedure."}, []string{"Disagreement about the threshold was not raised openly."}},
	"LS.ORG.01":   {[]string{"The partnership had made neglect a stated priority."}, []string{"Organisational priorities favoured meeting timescales over depth of assessment."}},
	"LS.ORG.03":   {[]string{"An organisational culture that valued learning from practice."}, []string{"Staff described a blame culture that discouraged raising concerns."}},
	"LS.ORG.04":   {[]string{"Threshold guidance helped the worker decide quickly."}, []string{"Threshold guidance was silent on attendance as a sign of neglect.", "The threshold for a service was set high and referrals were often declined."}},
	"LS.ORG.05":   {[]string{"Local policy on pre-birth assessment was clear and followed."}, []string{"Local policy did not cover families moving between areas."}},
	"LS.ORG.06":   {[]string{"The procedure for missed appointments was clear and followed."}, []string{"The procedure for was not brought appointments was not known to staff."}},
	"LS.ORG.09":   {[]string{"Messages from managers were consistent."}, []string{"Staff received mixed messages about whether to close cases quickly."}},
	"LS.RES.01":   {[]string{"Funding was available for the specialist assessment."}, []string{"Budget constraints delayed the specialist assessment."}},
	"LS.RES.02":   {[]string{"Resources were moved to where the need was greatest."}, []string{"Resources were allocated by caseload numbers, not complexity."}},
	"LS.RES.03":   {[]string{"A suitable local service was available without a wait."}, []string{"There was no local service for parents who misuse alcohol.", "The waiting list for the parenting programme was long.", "No specialist service for children who had witnessed domestic abuse."}},
	"LS.RES.04":   {[]string{"Commissioning arrangements were clear about who provided what."}, []string{"The commissioned service's criteria excluded the family."}},
	"LS.RES.05":   {[]string{"Staffing decisions protected continuity of worker."}, []string{"The case was reallocated three times because of staffing decisions."}},
	"NG.POL.01":   {[]string{"National policy on early help supported the approach."}, []string{"Changes in national policy left local arrangements in flux."}},
	"NG.POL.02":   {[]string{"National guidance was clear and helped the decision."}, []string{"National guidance was ambiguous about information sharing without consent."}},
	"NG.POL.03":   {[]string{"Performance measures included the quality of practice."}, []string{"Assessment timescale indicator was close to breach.", "Performance indicators measured timeliness rather than quality."}},
	"NG.POL.04":   {[]string{"The assessment form prompted the worker to record the history.", "The electronic record showed the full history on one screen."}, []string{"The electronic case record made earlier referrals hard to find.", "The assessment form had no space to record uncertainty.", "Two agencies' ICT systems could not share information."}},
}

// typeDetails are the fallback details for factors without their own, by
// factor type prefix; {label} is the factor's label in lower case.
var typeDetails = map[string]factorDetail{
	"FL.FAM":   {[]string{"Aspects of the family ({label}) helped workers to understand the situation."}, []string{"Aspects of the family ({label}) shaped how workers read the situation."}},
	"FL.STAFF": {[]string{"The worker's {label} supported sound judgement."}, []string{"The worker's {label} made it harder to see the risk."}},
	"FL.ROLE":  {[]string{"The {label} supported good practice."}, []string{"The {label} limited what the worker could see."}},
	"FL.WORK":  {[]string{"Conditions of work ({label}) supported the worker."}, []string{"Conditions of work ({label}) made thorough work harder."}},
	"FL.TEAM":  {[]string{"Within the team, {label} supported the worker."}, []string{"Within the team, {label} got in the way."}},
	"FL.IA":    {[]string{"Across agencies, {label} supported joint work."}, []string{"Across agencies, {label} got in the way."}},
	"LS":       {[]string{"At a strategic level, {label} supported practice."}, []string{"At a strategic level, {label} made problematic practice more likely."}},
	"NG":       {[]string{"Nationally, {label} supported practice."}, []string{"Nationally, {label} made problematic practice more likely."}},
	"":         {[]string{"Participants said {label} helped here."}, []string{"Participants said {label} made things harder here."}},
}

// factorWeights are base weights (good, problematic) for the default frame's
// factors, so that some are common and some rare, as in real reviews. Codes
// not listed weigh defaultFactorWeight in both.
const defaultFactorWeight = 0.25

var factorWeights = map[string][2]float64{
	"FL.FAM.01": {1, 2}, "FL.FAM.02": {0.5, 2}, "FL.FAM.03": {0.5, 1}, "FL.FAM.04": {0.8, 2}, "FL.FAM.05": {1.5, 2.5},
	"FL.FAM.06": {2.5, 2}, "FL.FAM.07": {0.3, 1.5}, "FL.FAM.08": {0.3, 0.8}, "FL.FAM.09": {0.3, 1}, "FL.FAM.10": {0.5, 2},
	"FL.FAM.11": {0.8, 1}, "FL.FAM.13": {0.3, 1.2}, "FL.FAM.14": {0.5, 1}, "FL.FAM.15": {0.5, 0.8},
	"FL.STAFF.01": {4, 2}, "FL.STAFF.02": {1, 2.5}, "FL.STAFF.03": {1, 3}, "FL.STAFF.04": {0.3, 1.5}, "FL.STAFF.05": {0.2, 1},
	"FL.STAFF.06": {1.5, 0.3}, "FL.STAFF.09": {1.5, 0.5},
	"FL.ROLE.01": {1.5, 2}, "FL.ROLE.02": {1, 1.5}, "FL.ROLE.03": {1.5, 2.5},
	"FL.WORK.01": {0.5, 1}, "FL.WORK.02": {0.5, 2}, "FL.WORK.03": {0.5, 2}, "FL.WORK.04": {0.3, 1}, "FL.WORK.05": {0.3, 0.8},
	"FL.WORK.06": {2, 1}, "FL.WORK.07": {0.3, 1},
	"FL.TEAM.01": {2, 1}, "FL.TEAM.02": {2, 1}, "FL.TEAM.03": {1.5, 1.5}, "FL.TEAM.04": {0.5, 1}, "FL.TEAM.05": {0.3, 1},
	"FL.TEAM.06": {2, 1}, "FL.TEAM.07": {1, 2}, "FL.TEAM.08": {0.3, 1.5}, "FL.TEAM.09": {0.5, 1},
	"FL.IA.01": {0.3, 1.5}, "FL.IA.03": {1, 2}, "FL.IA.04": {1.5, 2}, "FL.IA.05": {3, 0.8}, "FL.IA.06": {2.5, 1},
	"FL.IA.07": {0.8, 0.8}, "FL.IA.08": {1, 1.5}, "FL.IA.09": {1, 1.5}, "FL.IA.10": {0.3, 1},
	"LS.ORG.01": {0.5, 1.5}, "LS.ORG.03": {1, 1}, "LS.ORG.04": {0.5, 1.5}, "LS.ORG.05": {1, 1}, "LS.ORG.06": {1, 1.5},
	"LS.RES.01": {0.2, 1.2}, "LS.RES.02": {0.3, 1}, "LS.RES.03": {0.5, 1.5}, "LS.RES.04": {0.2, 0.8}, "LS.RES.05": {0.3, 1.2},
	"NG.POL.01": {0.3, 0.5}, "NG.POL.02": {0.5, 0.5}, "NG.POL.03": {0.3, 1.2}, "NG.POL.04": {0.5, 1},
}

// patternInfo describes a listed sub-pattern of the default typology: what
// recommendations call its topic, whether it can be constructive, the factors
// that typically lie behind it and summaries for either nature.
type patternInfo struct {
	topic        string
	constructive bool
	factors      []string
	unsafe       string
	positive     string
}

var patternInfos = map[string]patternInfo{
	"P1.1":   {"the design of assessment forms", true, []string{"NG.POL.04", "FL.WORK.07"}, "Assessment forms shape what is recorded and leave out the quality and depth of the work.", "Well-designed forms prompted workers to record the history and their reasoning."},
	"P1.1.1": {"recording the depth of assessments", false, []string{"NG.POL.04"}, "Completed forms gave no sign of how deep the assessment had been, so managers could not tell.", ""},
	"P1.1.2": {"recording the reasons for decisions", false, []string{"NG.POL.04", "FL.TEAM.03"}, "The form discouraged recording why conclusions were reached, so later workers could not revisit them.", ""},
	"P1.1.3": {"recording uncertainty in assessments", false, []string{"NG.POL.04"}, "Forms encouraged confident statements and left no room for a healthy unease.", ""},
	"P1.2":   {"the use of the assessment framework", true, []string{"NG.POL.04"}, "The assessment framework steered attention to need and away from risk.", "The framework was used flexibly to bring risk and need together."},
	"P1.2.1": {"articulating risk within needs assessment", false, []string{"NG.POL.04"}, "A focus on assessing need discouraged workers from naming the risks.", ""},
	"P1.3":   {"revising plans within the case management framework", true, []string{"NG.POL.04", "LS.ORG.06"}, "The case management cycle treated revision as an interruption.", "The case management cycle built in regular points to revise the plan."},
	"P1.3.1": {"revising plans as part of the flow of practice", false, []string{"LS.ORG.06"}, "Revising a plan was experienced as an interruption rather than part of the work.", ""},
	"P2.1":   {"matching resources to demand", false, []string{"FL.WORK.03", "LS.RES.03", "FL.WORK.02"}, "Demand outstripped resources and workers rationed their attention.", ""},
	"P2.1.1": {"access to expert assessments", false, []string{"LS.RES.01", "LS.RES.03"}, "Expert assessments were hard to obtain and decisions waited.", ""},
	"P2.1.2": {"gaps in service provision", false, []string{"LS.RES.03", "LS.RES.04"}, "Gaps in local services left families without the help plans relied on.", ""},
	"P2.1.3": {"funding disputes between agencies", false, []string{"LS.RES.01", "LS.RES.04"}, "Disputes over who would fund a service left practitioners creating safety themselves.", ""},
	"P2.2":   {"the use of performance indicators", true, []string{"NG.POL.03", "LS.ORG.01"}, "Performance indicators drew effort towards timeliness at the cost of depth.", "Managers used performance information to ask about quality, not only speed."},
	"P2.2.1": {"trade-offs between timescales and depth of assessment", false, []string{"NG.POL.03", "LS.ORG.09"}, "Timescale indicators are experienced as the overt priority and crowd out a fuller assessment.", ""},
	"P2.2.2": {"the difference between compliance and safety", false, []string{"NG.POL.03"}, "Meeting a procedural target came to stand for the child being safe.", ""},
	"P2.3":   {"reflective supervision", true, []string{"FL.TEAM.02", "FL.WORK.06"}, "Supervision checked tasks but left no room to reflect on the case as a whole.", "Reflective supervision helped workers stand back, notice patterns and act on them."},
	"P3.1":   {"setting priorities in a crisis", true, []string{"LS.ORG.01"}, "In a crisis each agency followed its own priorities and no one held the whole picture.", "A shared sense of priority in the crisis let agencies act together quickly."},
	"P3.2":   {"the wider needs of the children in a crisis response", true, []string{"FL.ROLE.03"}, "The crisis response narrowed onto the incident and overlooked the children's wider needs.", "The crisis response kept the wider needs of every child in view."},
	"P3.3":   {"reserve capacity for crises", true, []string{"FL.WORK.03", "FL.TEAM.08"}, "Teams had no spare capacity, so crises displaced planned work.", "The team kept capacity in reserve and could respond without dropping other work."},
	"P3.4":   {"professionals knowing each other", true, []string{"FL.IA.05", "FL.IA.06"}, "Workers did not know each other and relied on forms, so concerns lost their force.", "Workers who knew each other spoke directly and acted quickly together."},
	"P3.5":   {"referral procedures and feedback to referrers", true, []string{"FL.IA.04", "FL.IA.08", "FL.IA.09"}, "Referrers were not told what happened, so they stopped referring or referred too late.", "Referrers were routinely told the outcome, which kept them engaged."},
	"P4.1":   {"assessment as an ongoing process", true, []string{"FL.STAFF.03", "FL.STAFF.02"}, "Assessment was treated as a one-off event rather than an ongoing process.", "Assessment was kept open and updated as new information arrived."},
	"P4.2":   {"clarity of roles and responsibilities", true, []string{"FL.IA.03"}, "Roles in the plan were unclear, so each agency assumed another was acting.", "Each agency knew its part in the plan and did it."},
	"P4.2.1": {"shared responsibility in multi-agency plans", true, []string{"FL.IA.03"}, "Shared responsibility became no one's responsibility.", "Responsibility was genuinely shared and checked at every meeting."},
	"P4.2.2": {"responsibility for thinking about the whole case", false, []string{"FL.IA.03", "FL.STAFF.03"}, "No one was responsible for thinking about the case as a whole.", ""},
	"P4.2.3": {"what information is shared and how much", true, []string{"FL.IA.04"}, "Uncertainty about what could be shared led agencies to hold back.", "Agencies were confident about what to share and shared it promptly."},
	"P4.3":   {"teamwork in longer-term work", true, []string{"FL.IA.06", "FL.IA.07"}, "Longer-term work lacked the conditions for good teamwork.", "Long-term teamwork was supported by regular contact and mutual respect."},
	"P4.3.1": {"open challenge between agencies", true, []string{"FL.IA.10", "FL.IA.01"}, "Conflicts of opinion were repressed and assessments went unchallenged.", "A shared culture made it acceptable to query each other's assessments."},
	"P4.3.2": {"group think in multi-agency meetings", false, []string{"FL.IA.07"}, "The group settled on one view of the family and evidence against it was discounted.", ""},
	"P4.3.3": {"professional status in multi-agency meetings", false, []string{"FL.IA.01"}, "The views of lower-status professionals carried less weight, whatever their knowledge.", ""},
	"P4.3.4": {"understanding of other agencies' remits", false, []string{"FL.IA.03"}, "Agencies overestimated what other services could provide.", ""},
	"P5.1":   {"involving fathers and male carers", true, []string{"FL.FAM.14", "FL.FAM.09"}, "Work centred on the mother; fathers and male carers stayed out of view.", "Both parents were engaged and assessed."},
	"P5.2":   {"gendered presentation of problems", false, []string{"FL.FAM.04", "FL.FAM.05"}, "A mother's cooperative presentation and a father's hostility shaped what workers saw.", ""},
	"P6.1":   {"reviewing judgements and plans", false, []string{"FL.STAFF.03", "FL.STAFF.02"}, "Once a view of the family was formed it was not revisited, and new information was fitted to it.", ""},
	"P6.2":   {"drift in long-running cases", false, []string{"FL.FAM.02", "FL.STAFF.02"}, "Small accommodations over time added up to a drift into accepting poor care.", ""},
	"P6.3":   {"attribution in judgements about families", false, []string{"FL.STAFF.02"}, "Problems were attributed to the family's character rather than to their circumstances, or the reverse.", ""},
}

// typeTopics name each pattern type's topic for recommendations on proposed sub-patterns.
var typeTopics = map[string]string{
	"P1": "the tools practitioners use", "P2": "management systems", "P3": "multi-agency working in a crisis",
	"P4": "multi-agency working over time", "P5": "work with families", "P6": "professional judgement",
}

// proposedSubPatterns are new sub-patterns reviewers described in words, by type.
var proposedSubPatterns = map[string][]string{
	"P1": {"Electronic records that hide the history of earlier referrals", "Chronology tools that are not used across agencies"},
	"P2": {"Vacant posts filled by short-term agency staff", "Waiting lists managed without any contact with the family"},
	"P3": {"Out-of-hours services without access to daytime records", "Strategy discussions held without health present"},
	"P4": {"Schools unsure whether attendance alone meets the threshold for referral", "Adult services unaware of the children in a household"},
	"P5": {"Fathers and male partners left out of assessments", "Parents' compliance taken as evidence of change"},
	"P6": {"Optimism after a single good visit", "Each incident judged alone rather than as part of a pattern"},
}

var recommendationTexts = [4][]string{
	1: {
		"Update the {body}'s multi-agency procedures on {topic} so that practitioners know what is expected, and audit their use within six months.",
		"Every agency in this review should add {topic} to its single-agency safeguarding training this year, using the episodes in this review.",
		"The {body} should issue a short practice briefing on {topic} to every agency involved in this review.",
		"Agencies should agree a simple escalation route for concerns about {topic} and publish it on the {body}'s website.",
	},
	2: {
		"The {body} should consider how much attention can be given to {topic} alongside competing demands on teams, and record the decision it reaches.",
		"Senior managers should decide, with front-line staff, what priority to give {topic} when capacity is short, and say so openly.",
		"The {body} should weigh the cost of further work on {topic} against other priorities in its business plan, and explain its choice.",
	},
	3: {
		"Research and development is needed on {topic}; the {body} should raise this with {national}.",
		"National guidance on {topic} should be reviewed, with research into what helps practitioners in situations like those in this review.",
		"Further work is needed, beyond any single area, to develop and test tools that support {topic}.",
	},
}

var recommendationConstructive = [4][]string{
	1: {"Share the practice on {topic} seen in this review across every agency in the {body}, through a learning event."},
	2: {"The {body} should consider whether the conditions that supported {topic} here can be protected when budgets are reduced."},
	3: {"The approach to {topic} seen in this review should be evaluated so that other areas can learn from it; the {body} should offer it to {national}."},
}
