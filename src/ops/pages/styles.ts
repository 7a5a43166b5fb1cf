import { createHash } from 'node:crypto';

/** The one stylesheet of the ops pages, inlined by the layout; the chart colours are classes here too. */
export const CSS = `
*{box-sizing:border-box}
body{margin:0;font:13px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2533;background:#eef1f5}
a{color:#1d4ed8;text-decoration:none}a:hover{text-decoration:underline}
header{display:flex;align-items:center;gap:16px;padding:8px 16px;background:#1d2533;color:#e5e9f0}
header h1{font-size:15px;margin:0;font-weight:600}header .meta{color:#aab4c3;font-size:12px;flex:1}
header nav{display:flex;gap:12px;align-items:center}header nav a{color:#e5e9f0}
header form{margin:0}
button{font:inherit;cursor:pointer;border:1px solid #8391a7;background:transparent;color:inherit;border-radius:4px;padding:2px 10px}
main{padding:10px 16px 24px;display:flex;flex-direction:column;gap:10px}
.kpis{display:grid;grid-template-columns:repeat(9,1fr);gap:8px}
.kpi{background:#fff;border-radius:6px;padding:6px 10px;border-left:4px solid #94a3b8}
.kpi .v{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}
.kpi .l{font-size:11px;color:#536072;text-transform:uppercase;letter-spacing:.03em}
.kpi .s{font-size:11px;color:#536072}
.kpi.t-ok{border-left-color:#16a34a}.kpi.t-warn{border-left-color:#d97706}.kpi.t-bad{border-left-color:#dc2626}.kpi.t-bad .v{color:#b91c1c}
.row{display:grid;gap:10px}.row.c3{grid-template-columns:repeat(3,minmax(0,1fr))}
.card{background:#fff;border-radius:6px;padding:8px 12px;min-width:0}
.card h2{font-size:12px;margin:0 0 6px;color:#36404f;text-transform:uppercase;letter-spacing:.03em}
.card h2 small{text-transform:none;letter-spacing:0;color:#6b7687;font-weight:400}
.scroll{max-height:250px;overflow:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #e5e9f0;vertical-align:top}
th{font-weight:600;color:#536072;font-size:11px}
td.n,th.n{text-align:right}
tr.sub th{padding-top:8px;color:#1d2533}
.bad{color:#b91c1c;font-weight:600}.muted{color:#6b7687}.empty{color:#6b7687;padding:6px 0}
.chart{width:100%;height:auto;display:block}
.chart .grid{stroke:#e5e9f0}.chart .axis{stroke:#94a3b8}
.chart .tick,.chart .legend{font-size:10px;fill:#536072}
.chart .hit{fill:transparent}
.c-attempts{fill:#c7d2fe}.c-connected{fill:#4f46e5}.c-verified{fill:#16a34a}
.chart .threshold{stroke:#dc2626;stroke-dasharray:4 3}
.chart .line{fill:none;stroke-width:2}
.s0{stroke:#4f46e5;fill:#4f46e5}.s1{stroke:#0891b2;fill:#0891b2}.s2{stroke:#d97706;fill:#d97706}
.s3{stroke:#db2777;fill:#db2777}.s4{stroke:#65a30d;fill:#65a30d}.s5{stroke:#7c3aed;fill:#7c3aed}
.swatch{stroke:none}
.login{max-width:420px;margin:12vh auto;background:#fff;border-radius:8px;padding:20px 24px}
.login h1{font-size:18px;margin:0 0 12px}.login label{display:block;margin-bottom:4px;font-weight:600}
.login input{width:100%;font:inherit;padding:6px 8px;border:1px solid #94a3b8;border-radius:4px;margin-bottom:12px}
.login button{background:#1d4ed8;color:#fff;border-color:#1d4ed8;padding:6px 16px}
.error{color:#b91c1c;margin:0 0 12px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:3px 12px;margin:0}dt{color:#536072}dd{margin:0}
pre{margin:0;white-space:pre-wrap;word-break:break-word;font-size:11px}
`;

/** The stylesheet is the only inline content, allowed by its hash: no 'unsafe-inline' anywhere. */
const STYLE_HASH = createHash('sha256').update(CSS).digest('base64');

export const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${STYLE_HASH}'`,
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');
