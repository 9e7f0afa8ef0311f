package ingest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/collate-project/collate/schemas"
)

// TestScreenRefuses holds sentences carrying identifying information. Each
// must yield exactly one finding, of the right kind, covering exactly the
// identifier.
func TestScreenRefuses(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		kind  idKind
		match string
	}{
		// Email addresses.
		{"email in a sentence", "Contact the social worker at jane.smith@council.gov.uk for details.", idEmail, "jane.smith@council.gov.uk"},
		{"email with plus and dash", "email: a.b-c+d@nhs.net.", idEmail, "a.b-c+d@nhs.net"},
		{"email with digits in brackets", "(mother's email JS1985@hotmail.co.uk)", idEmail, "JS1985@hotmail.co.uk"},

		// UK phone numbers.
		{"mobile spaced", "Call 07700 900123 for the duty team", idPhone, "07700 900123"},
		{"mobile unspaced", "her mobile 07700900123 was switched off", idPhone, "07700900123"},
		{"mobile dashed", "rang on 07700-900-123.", idPhone, "07700-900-123"},
		{"mobile +44", "texted +44 7700 900123 twice", idPhone, "+44 7700 900123"},
		{"mobile +44 unspaced", "texted +447700900123 twice", idPhone, "+447700900123"},
		{"landline 0191", "landline 0191 498 0000 recorded", idPhone, "0191 498 0000"},
		{"landline bracketed area code", "number (0191) 498 0000 recorded", idPhone, "(0191) 498 0000"},
		{"London landline", "ring 020 7946 0958 after 5", idPhone, "020 7946 0958"},
		{"London landline bracketed", "call (020) 7946 0958 now", idPhone, "(020) 7946 0958"},
		{"+44 with bracketed zero", "ring +44 (0)20 7946 0958 after 5", idPhone, "+44 (0)20 7946 0958"},
		{"0044 form", "ring 0044 20 7946 0958 after 5", idPhone, "0044 20 7946 0958"},
		{"03 number", "the helpline 0306 999 0000 was", idPhone, "0306 999 0000"},
		{"five-digit area code", "call 01632 960123 today", idPhone, "01632 960123"},
		{"ten-digit landline", "call 016977 4567 today", idPhone, "016977 4567"},
		{"phone after a year", "in 2019 07700 900123 was given", idPhone, "07700 900123"},
		{"phone after a colon", "Tel:07700900123", idPhone, "07700900123"},

		// Postcodes.
		{"postcode NE1 4ST", "the family lived at NE1 4ST with", idPostcode, "NE1 4ST"},
		{"postcode SW1A 1AA", "SW1A 1AA was the address", idPostcode, "SW1A 1AA"},
		{"postcode EC1A 1BB", "office at EC1A 1BB.", idPostcode, "EC1A 1BB"},
		{"postcode W1A 0AX", "moved to W1A 0AX", idPostcode, "W1A 0AX"},
		{"postcode M1 1AE", "moved to M1 1AE in", idPostcode, "M1 1AE"},
		{"postcode B33 8TH", "moved to B33 8TH in", idPostcode, "B33 8TH"},
		{"postcode DN55 1PT", "moved to DN55 1PT in", idPostcode, "DN55 1PT"},
		{"postcode lower case", "moved to ne1 4bx in", idPostcode, "ne1 4bx"},
		{"postcode without space", "moved to SW1A1AA in", idPostcode, "SW1A1AA"},
		{"postcode in brackets", "(CR2 6XH)", idPostcode, "CR2 6XH"},

		// NHS numbers with a valid check digit.
		{"NHS number spaced", "NHS number 943 476 5919 on file", idNHS, "943 476 5919"},
		{"NHS number unspaced", "NHS no. 9434765919", idNHS, "9434765919"},
		{"NHS number dashed", "ref 401-023-2137", idNHS, "401-023-2137"},

		// National Insurance numbers.
		{"NI number spaced", "NI number AB 12 34 56 C was", idNINO, "AB 12 34 56 C"},
		{"NI number unspaced", "NINO AB123456C", idNINO, "AB123456C"},
		{"NI number suffix D", "JG103759D.", idNINO, "JG103759D"},
		{"NI number without suffix", "JG103759 recorded", idNINO, "JG103759"},
		{"NI number grouped", "NI: JG 103759 A", idNINO, "JG 103759 A"},

		// Dates of birth.
		{"DOB numeric", "Child C, DOB 12/03/2015, was", idDOB, "12/03/2015"},
		{"D.O.B. dotted", "D.O.B.: 12.03.2015", idDOB, "12.03.2015"},
		{"date of birth words", "date of birth: 3 March 2015", idDOB, "3 March 2015"},
		{"born on", "Child C (born on 3 March 2015) was", idDOB, "3 March 2015"},
		{"born ordinal", "born 3rd March 2015", idDOB, "3rd March 2015"},
		{"born with words between", "was born prematurely on 12th of March 2015", idDOB, "12th of March 2015"},
		{"born month first", "born on March 3, 2015 at", idDOB, "March 3, 2015"},
		{"DOB month and year", "DOB: March 2015", idDOB, "March 2015"},
		{"DOB ISO", "date of birth 2015-03-12", idDOB, "2015-03-12"},
		{"DOB month slash year", "dob 03/2015", idDOB, "03/2015"},
		{"birthday", "Birthday: 3 Mar", idDOB, "3 Mar"},
		{"birth date two-digit year", "birth date 12-03-15", idDOB, "12-03-15"},

		// Personal names after a title.
		{"Mrs surname", "Mrs Smith said she was worried", idName, "Smith"},
		{"Dr. with stop", "Dr. Patel reviewed the child", idName, "Patel"},
		{"Dr without stop", "seen by Dr Patel", idName, "Patel"},
		{"given name and surname", "Mr John Smith attended", idName, "John Smith"},
		{"initial then surname", "Ms A Smith attended", idName, "A Smith"},
		{"initial with stop then surname", "Dr A. Patel attended", idName, "A. Patel"},
		{"Miss", "Miss Jones, the teacher", idName, "Jones"},
		{"Mx", "Mx Taylor said", idName, "Taylor"},
		{"apostrophe", "Mrs O'Brien said", idName, "O'Brien"},
		{"double-barrelled", "Mrs Smith-Jones said", idName, "Smith-Jones"},
		{"capitals", "Mr SMITH said", idName, "SMITH"},
		{"accented", "Dr Ó Súilleabháin said", idName, "Ó Súilleabháin"},
		{"after bracket", "the GP (Dr Patel) said", idName, "Patel"},
		{"possessive", "Mrs Smith's house", idName, "Smith"},
		{"charity named after a person", "Dr Barnardo's family support", idName, "Barnardo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := screenText(tt.text, nil)
			if len(fs) != 1 {
				t.Fatalf("screenText(%q) found %d identifiers %v, want 1", tt.text, len(fs), describeFindings(tt.text, fs))
			}
			got := fs[0]
			if got.kind != tt.kind || tt.text[got.start:got.end] != tt.match {
				t.Errorf("screenText(%q) = %s %q, want %s %q", tt.text, idKinds[got.kind].label, tt.text[got.start:got.end], idKinds[tt.kind].label, tt.match)
			}
			ex := maskedExcerpt(tt.text, maskOf(tt.text, fs), got)
			if strings.Contains(ex, tt.match) {
				t.Errorf("excerpt %q shows the identifier %q", ex, tt.match)
			}
		})
	}
}

// TestScreenPasses holds ordinary review language, and the seed's pseudonyms,
// that must never be refused.
func TestScreenPasses(t *testing.T) {
	texts := []string{
		// Roles and agencies.
		"Social worker", "Designated safeguarding lead", "Children's social care", "Police", "NHS trust",
		"Health visitor and her supervisor", "Detective constable", "GP practice", "A&E attendance",
		"The MASH received 3 referrals", "Independent Reviewing Officer", "Youth Offending Service",
		// Pseudonyms.
		"Ms A", "Mr B", "Child C", "Mother (Ms A)", "Ms A's partner", "Ms A and Mr B", "Mrs A, Mr B and Child C",
		"We met Ms A. She said the house was busy.", "Mr B. The social worker visited.", "Ms A. Mr B arrived later.",
		"Miss A", "Dr B", "the Dr said", "MS Teams call", "Missed appointments", "Mx D attended", "Ms AB and Mr CD",
		"Ms A. Police attended.",
		// Counts, years, percentages and numbers.
		"12 assessments", "2019", "71% attendance", "In 2019, 12 of 20 cases", "episodes 1, 2 and 3", "ratio 1:8",
		"07:30 visit", "an 11-year-old", "the 2nd review", "Year 6 pupil", "Key Stage 2", "£12,000 budget",
		"Cohen's kappa 0.74", "between 2015 and 2019", "Working Together 2018", "aged 3", "the 10-day timescale",
		"45 working days", "NHS 111", "a 999 call", "1 in 3 visits", "3-4 visits a week", "24/7 helpline",
		"0-19 service", "open 9-5", "between 01/04/2019 and 31/03/2020", "on 12/03/2019 a strategy meeting was held",
		"12.03.2019", "1 2 3 4 5 6 7 8 9 10 11 12", "943 476 5918", "1234567890", "2019 2020 2021 2022",
		"reference 1000000000", "12345 678901",
		// Legal sections and service tiers.
		"section 47 of the Children Act 1989", "s.17", "Section 20", "S47 enquiry", "s47 1st contact",
		"tier 3 CAMHS", "Early Help level 2", "Level 3 safeguarding training", "Form CAF 2", "Y2 2ND",
		// Codes, regions and IDs.
		"P2.1", "FL.WORK.03", "LS.ORG.04", "NE region", "North East", "ENG-NE-NCL", "NCL-CSPR-2023-04",
		"M1 motorway", "A1 road", "B1 visa", "the QQ 12 34 56 C example", "GB 12 34 56 A", "TN123456A", "DA123456A",
		// Dates that are events, not births.
		"in March 2019", "on 12 March 2019 the school raised concerns", "born in 2015", "born at 32 weeks",
		"the baby was born in hospital and on 12 March 2019 the health visitor visited",
		"the school did not record the date of birth", "born in March 2015", "DOB recorded wrongly on 2 of 5 forms",
		"the first-born child", "a newborn baby", "Dobson Road", "newly born twins, then on 3 May the GP",
		"born 2 months premature", "was born on the 3rd", "DOB and address were shared on 12 March 2019",
		"MARAC on 01/02/2019", "10.30am visit", "Childline 0800 1111", "NSPCC helpline 0808 800 5000", "KS2 SATs",
		"Ms A's GP, Dr B, said", "the Mr and Mrs B household", "Ms A. Mother said", "Mr B's flat",
		// Other ordinary punctuation.
		"staff @ the school", "user@localhost", "a@b", "e-mail the team",
	}
	for _, text := range texts {
		t.Run(text, func(t *testing.T) {
			if fs := screenText(text, nil); len(fs) > 0 {
				t.Errorf("screenText(%q) refused ordinary text: %v", text, describeFindings(text, fs))
			}
		})
	}
}

func describeFindings(s string, fs []finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, idKinds[f.kind].label+" "+s[f.start:f.end])
	}
	return out
}

func TestScreenMasks(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"phone keeps two digits and the shape", "Please call 07700 900123 if worried.", "Please call 07*** ****** if worried."},
		{"email keeps the first letter", "write to jane@x.org now", "write to j***@*.*** now"},
		{"name keeps the initial", "Mrs Smith said", "Mrs S**** said"},
		{"date of birth hidden entirely", "DOB 12/03/2015.", "DOB **/**/****."},
		{"postcode hidden entirely", "at NE1 4ST", "at *** ***"},
		{"long text is cut", "The team discussed the case at length over many weeks; Mrs Smith said that the school had not been told of it until late.",
			"... over many weeks; Mrs S**** said that the school ..."},
		{"repeated surname is hidden too", "Mrs Smith and Smith's son", "Mrs S**** and S****'s son"},
		{"every identifier in view is hidden", "07700 900123 or 07700 900456", "07*** ****** or 07*** ******"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := screenText(tt.text, nil)
			if len(fs) == 0 {
				t.Fatalf("screenText(%q) found nothing", tt.text)
			}
			if got := maskedExcerpt(tt.text, maskOf(tt.text, fs), fs[0]); got != tt.want {
				t.Errorf("maskedExcerpt(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// TestScreenEveryField plants an email address in each free-text field in
// turn and checks that the screen reports that field and nothing else.
func TestScreenEveryField(t *testing.T) {
	const planted = "contact jo@example.org"
	tests := []struct {
		loc   string
		plant func(e *Export)
	}{
		{"/review/questions/1", func(e *Export) { e.Review.Questions[1] += " " + planted }},
		{"/review/agencies/0", func(e *Export) { e.Review.Agencies[0] = planted }},
		{"/review/participants/2/role", func(e *Export) { e.Review.Participants[2].Role = planted }},
		{"/review/participants/0/agency", func(e *Export) { e.Review.Participants[0].Agency = planted }},
		{"/review/coding/coder_role", func(e *Export) { e.Review.Coding.CoderRole = planted }},
		{"/episodes/0/title", func(e *Export) { e.Episodes[0].Title = planted }},
		{"/episodes/1/description", func(e *Export) { e.Episodes[1].Description += " " + planted }},
		{"/episodes/2/significance", func(e *Export) { e.Episodes[2].Significance = planted }},
		{"/episodes/2/agencies/1", func(e *Export) { e.Episodes[2].Agencies[1] = planted }},
		{"/episodes/0/evidence/1/note", func(e *Export) { e.Episodes[0].Evidence[1].Note = planted }},
		{"/episodes/0/factors/2/detail", func(e *Export) { e.Episodes[0].Factors[2].Detail = planted }},
		{"/patterns/3/proposed_sub_pattern", func(e *Export) { e.Patterns[3].ProposedSubPattern = planted }},
		{"/patterns/0/summary", func(e *Export) { e.Patterns[0].Summary = planted }},
		{"/recommendations/2/text", func(e *Export) { e.Recommendations[2].Text = planted }},
	}
	v := mustValidator(t)
	for _, tt := range tests {
		t.Run(tt.loc, func(t *testing.T) {
			e := mustExample(t)
			tt.plant(e)
			err := v.Check("review.json", e)
			want := Problems{{File: "review.json", Location: tt.loc,
				Message:  `identifying information (an email address): "` + maskedPlant(e, tt.loc) + `"`,
				Expected: screenExpected, Hint: idKinds[idEmail].hint}}
			if diff := cmp.Diff(want, err); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("/review/id", func(t *testing.T) {
		e := mustExample(t)
		e.Review.ID = "AB123456C"
		err := v.Check("review.json", e)
		want := Problems{{File: "review.json", Location: "/review/id",
			Message:  `identifying information (a National Insurance number): "*********"`,
			Expected: screenExpected, Hint: idKinds[idNINO].hint}}
		if diff := cmp.Diff(want, err); diff != "" {
			t.Errorf("Check (-want +got):\n%s", diff)
		}
	})
}

// maskedPlant computes the expected excerpt of the planted address from the
// field's text, so the test states where the field is, not how long it is.
func maskedPlant(e *Export, loc string) string {
	b, _ := json.Marshal(e)
	var doc any
	_ = json.Unmarshal(b, &doc)
	for _, tok := range strings.Split(loc, "/")[1:] {
		switch x := doc.(type) {
		case map[string]any:
			doc = x[tok]
		case []any:
			i := 0
			for _, c := range tok {
				i = i*10 + int(c-'0')
			}
			doc = x[i]
		}
	}
	s := doc.(string)
	fs := screenText(s, nil)
	return maskedExcerpt(s, maskOf(s, fs), fs[0])
}

func TestScreenProblemInValidate(t *testing.T) {
	v := mustValidator(t)
	e := mustExample(t)
	e.Episodes[1].Description = "The health visitor rang the mother on 07700 900123 and Mrs Smith answered."
	data, _ := json.Marshal(e)
	_, err := v.Validate("hv.json", data)
	want := Problems{
		{File: "hv.json", Location: "/episodes/1/description",
			Message:  `identifying information (a phone number): "... rang the mother on 07*** ****** and Mrs S**** answered."`,
			Expected: screenExpected, Hint: idKinds[idPhone].hint},
		{File: "hv.json", Location: "/episodes/1/description",
			Message:  `identifying information (a personal name after a title): "... on 07*** ****** and Mrs S**** answered."`,
			Expected: screenExpected, Hint: idKinds[idName].hint},
	}
	if diff := cmp.Diff(want, err); diff != "" {
		t.Errorf("Validate (-want +got):\n%s", diff)
	}
}

func TestScreenText(t *testing.T) {
	got := ScreenText("book.xlsx", "Episodes!C4", "Ring 07700 900123 (100%d sure)")
	want := Problems{{File: "book.xlsx", Location: "Episodes!C4",
		Message:  `identifying information (a phone number): "Ring 07*** ****** (100%d sure)"`,
		Expected: screenExpected, Hint: idKinds[idPhone].hint}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ScreenText (-want +got):\n%s", diff)
	}
	if got := ScreenText("book.xlsx", "Episodes!C5", "Ms A met the social worker."); got != nil {
		t.Errorf("ScreenText refused clean text: %v", got)
	}
}

func TestScreenStopsAtMaxProblems(t *testing.T) {
	v := mustValidator(t)
	e := mustExample(t)
	e.Episodes[0].Description = strings.Repeat("a@b.org ", 150)
	err := v.Check("many.json", e)
	ps, ok := err.(Problems)
	if !ok || len(ps) != MaxProblems {
		t.Fatalf("Check returned %d problems, want %d", len(ps), MaxProblems)
	}
}

func mustExample(t testing.TB) *Export {
	t.Helper()
	var e Export
	if err := json.Unmarshal(schemas.Examples()["statutory-review.json"], &e); err != nil {
		t.Fatalf("decode example: %v", err)
	}
	return &e
}
