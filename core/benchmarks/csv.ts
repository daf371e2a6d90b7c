/** RFC 4180 CSV (quoted fields may span lines), with the line each row starts on. */

interface CsvRow {
  line: number;
  fields: string[];
}

export interface CsvResult {
  rows: CsvRow[];
  /** Set when the text ends inside a quoted field; rows before it are still returned. */
  error?: { line: number; reason: string };
}

export function parseCsv(text: string): CsvResult {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const rows: CsvRow[] = [];
  let line = 1;
  let rowLine = 1;
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let quoteLine = 1;
  let rowHasContent = false;

  const endRow = (): void => {
    fields.push(field);
    if (rowHasContent || fields.length > 1 || field !== '') rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
    rowHasContent = false;
  };

  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (inQuotes) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"') {
      inQuotes = true;
      quoteLine = line;
      rowHasContent = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      rowHasContent = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      field += c;
    }
  }
  if (inQuotes) return { rows, error: { line: quoteLine, reason: 'unterminated quoted field' } };
  if (field !== '' || fields.length > 0 || rowHasContent) endRow();
  return { rows };
}
