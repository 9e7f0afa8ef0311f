package xlsx

import (
	"fmt"

	"github.com/xuri/excelize/v2"

	"github.com/collate-project/collate/schemas"
)

// instructions are the Instructions sheet, a heading (when the text starts
// with "# ") or a paragraph per row. They must pass the screen for
// identifying information like every other cell.
func instructions(frame *schemas.Frame) []string {
	return []string{
		"# Collate review workbook",
		"This workbook records one finished case review done with the systems approach (Learning Together): the review, its key practice episodes with their contributory factors, the underlying patterns and the recommendations. Fill it in, check it with `collate validate review.xlsx` or on the upload page, then upload it. It arrives exactly as a JSON export would.",
		fmt.Sprintf("Coding frame: %s, version %s (%s). Format: %s.", frame.ID, frame.Version, frame.Title, schemas.ExportFormat),
		"# Keep it anonymous",
		"Professionals by their role only (Social worker, Health visitor, Team manager), never by name.",
		"The family by pseudonyms (Child A, the mother, the father's partner), never by real names or initials that could identify them.",
		"No place below the board: no addresses, streets, postcodes, towns, estates, schools or surgeries by name.",
		"No email addresses, phone numbers, NHS numbers, National Insurance numbers or dates of birth anywhere in the workbook. Collate checks every cell on every sheet, including notes, extra columns and extra sheets, and refuses the whole workbook if it finds one.",
		"# The sheets",
		"Review: one value per row in the Value column. Insert more Question or Agency rows, with the same label in the Field column, when there are more questions or agencies. Leave Format and the coding frame rows as they are.",
		"Participants: one row per person who took part, by role and agency.",
		"Episodes: the table of key practice episodes (Appendix 4 of the Learning Together guide), one row per episode, numbered 1, 2, 3. Several agencies go in one cell, one per line (Alt+Enter, or Option+Enter on a Mac, starts a new line).",
		"Evidence: the sources each episode draws on, one row per source, with the episode's number.",
		"Factors: the contributory factors, one row per factor, with the episode's number, a code from the frame, a short detail and whether it supported good practice or made problematic practice more likely.",
		"Patterns: the underlying patterns, one row per pattern: a type, then a listed sub-pattern where one fits or a new sub-pattern described in words, never both. Episodes drawn on are numbers separated by commas.",
		"Recommendations: one row per recommendation, with its kind (1: clear-cut, addressable locally; 2: needs judgement because of competing priorities; 3: needs research and development, often national), the level addressed and the patterns it addresses.",
		"Lists: the codes the dropdowns offer, with their labels. It is protected so that it is not changed by accident.",
		"# Filling it in",
		"Coded cells have dropdowns. You can pick from the list or type the code alone, such as FL.WORK.03. Values the importer does not know are reported with the nearest valid codes.",
		"A blank cell means not recorded. Where the dropdown offers not_recorded, choosing it says so explicitly; either is accepted.",
		"Rows marked EXAMPLE in the first column are examples: the importer skips them. Delete them, or overwrite one and clear its EXAMPLE mark.",
		"Columns are found by their header text, so you may move columns, and add your own columns or sheets for notes: the importer ignores them, but still checks them for identifying information.",
		"Type values, not formulas. A workbook with a formula in any cell is refused; copy the cells and paste them back as values only.",
		"Keep one review per workbook.",
	}
}

func (b *builder) writeInstructions() error {
	f, sh := b.f, SheetInstructions
	if err := f.SetColWidth(sh, "A", "A", 120); err != nil {
		return err
	}
	for i, line := range instructions(b.frame) {
		cell := cellName(0, i+1)
		style := b.st.instr
		if len(line) > 2 && line[:2] == "# " {
			line, style = line[2:], b.st.instrHead
		}
		if err := f.SetCellStr(sh, cell, line); err != nil {
			return err
		}
		if err := f.SetCellStyle(sh, cell, cell, style); err != nil {
			return err
		}
	}
	return f.ProtectSheet(sh, &excelize.SheetProtectionOptions{SelectLockedCells: true, SelectUnlockedCells: true})
}
