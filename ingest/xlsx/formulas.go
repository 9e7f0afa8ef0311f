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

// findFormulas lists the formula cells of every worksheet, reading the
// package's XML directly: a formula is refused whatever its cached value,
// and it is never evaluated. excelize offers no way to list formulas without
// asking cell by cell, and a formula whose cached value is empty would slip
// past a scan of the values.
func findFormulas(data []byte, maxXML int64) ([]formulaCell, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	parts := map[string]*zip.File{}
	for _, f := range zr.File {
		parts[strings.TrimPrefix(f.Name, "/")] = f
	}
	sheets, err := sheetParts(parts, maxXML)
	if err != nil {
		return nil, err
	}
	var out []formulaCell
	for _, s := range sheets {
		f, ok := parts[s.part]
		if !ok {
			continue
		}
		cells, err := scanFormulas(f, maxXML)
		if err != nil {
			return nil, fmt.Errorf("sheet %s: %w", s.name, err)
		}
		for _, c := range cells {
			out = append(out, formulaCell{sheet: s.name, cell: c})
		}
	}
	return out, nil
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

// scanFormulas streams one worksheet and returns the references of cells
// with an <f> element.
func scanFormulas(f *zip.File, maxXML int64) ([]string, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	dec := xml.NewDecoder(io.LimitReader(rc, maxXML))
	var out []string
	var cell string
	rowNum, colNum := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
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
			if len(out) == 0 || out[len(out)-1] != cell {
				out = append(out, cell)
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
