package xlsx

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// formulaCell is a cell that holds a formula.
type formulaCell struct {
	sheet, cell string
}

// sheetScan is what one pass over a worksheet's XML finds besides values.
type sheetScan struct {
	formulas []string // cells with a formula
	merges   []string // merged ranges, such as B5:B8
}

// findFormulas lists the formula cells of every worksheet.
func findFormulas(data []byte, maxXML int64) ([]formulaCell, error) {
	scans, order, err := scanSheets(data, maxXML)
	if err != nil {
		return nil, err
	}
	var out []formulaCell
	for _, name := range order {
		for _, c := range scans[name].formulas {
			out = append(out, formulaCell{sheet: name, cell: c})
		}
	}
	return out, nil
}

// scanSheets reads each worksheet's XML directly for its formula cells and
// merged ranges: a formula is refused whatever its cached value, and it is
// never evaluated. excelize offers no way to list formulas without asking
// cell by cell, and a formula whose cached value is empty would slip past a
// scan of the values. Taking the merged ranges in the same pass spares
// excelize a second, full decoding of every sheet.
func scanSheets(data []byte, maxXML int64) (map[string]*sheetScan, []string, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, nil, err
	}
	parts := map[string]*zip.File{}
	for _, f := range zr.File {
		parts[strings.TrimPrefix(f.Name, "/")] = f
	}
	sheets, err := sheetParts(parts, maxXML)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]*sheetScan{}
	var order []string
	for _, s := range sheets {
		f, ok := parts[s.part]
		if !ok {
			continue
		}
		sc, err := scanSheet(f, maxXML)
		if err != nil {
			return nil, nil, fmt.Errorf("sheet %s: %w", s.name, err)
		}
		out[s.name] = sc
		order = append(order, s.name)
	}
	return out, order, nil
}

type sheetPart struct{ name, part string }

// sheetParts maps sheet names to their XML parts through xl/workbook.xml and
// its relationships.
func sheetParts(parts map[string]*zip.File, maxXML int64) ([]sheetPart, error) {
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			ID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := decodePart(parts, "xl/workbook.xml", maxXML, &wb); err != nil {
		return nil, err
	}
	if err := decodePart(parts, "xl/_rels/workbook.xml.rels", maxXML, &rels); err != nil {
		return nil, err
	}
	target := map[string]string{}
	for _, r := range rels.Rels {
		t := r.Target
		if strings.HasPrefix(t, "/") {
			t = strings.TrimPrefix(t, "/")
		} else {
			t = path.Join("xl", t)
		}
		target[r.ID] = t
	}
	var out []sheetPart
	for _, s := range wb.Sheets {
		if t, ok := target[s.ID]; ok {
			out = append(out, sheetPart{name: s.Name, part: t})
		}
	}
	return out, nil
}

func decodePart(parts map[string]*zip.File, name string, maxXML int64, v any) error {
	f, ok := parts[name]
	if !ok {
		return fmt.Errorf("part %s missing", name)
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return xml.NewDecoder(io.LimitReader(rc, maxXML)).Decode(v)
}

// scanSheet streams one worksheet for cells with an <f> element and for
// <mergeCell> ranges.
func scanSheet(f *zip.File, maxXML int64) (*sheetScan, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	dec := xml.NewDecoder(io.LimitReader(rc, maxXML))
	out := &sheetScan{}
	var cell string
	rowNum, colNum := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "row":
			colNum = 0
			rowNum++
			if r := attr(se, "r"); r != "" {
				if n, err := strconv.Atoi(r); err == nil {
					rowNum = n
				}
			}
		case "c":
			colNum++
			cell = attr(se, "r")
			if cell == "" {
				cell = cellName(colNum-1, rowNum)
			} else if c, _, err := splitCell(cell); err == nil {
				colNum = c + 1
			}
		case "f":
			if n := len(out.formulas); n == 0 || out.formulas[n-1] != cell {
				out.formulas = append(out.formulas, cell)
			}
		case "mergeCell":
			if ref := attr(se, "ref"); ref != "" {
				out.merges = append(out.merges, ref)
			}
		}
	}
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
