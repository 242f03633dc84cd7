//! The page's stylesheet, inlined in its `<head>`: the page loads nothing from anywhere.
//! Colours follow the status (`s-…`), the check outcome (`o-…`) and the finding badge.

pub(super) const STYLE: &str = r#"
:root{--fg:#0f172a;--muted:#475569;--line:#e2e8f0;--bad:#dc2626;--warn:#d97706;--ok:#16a34a}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0 auto;max-width:1200px;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0}h1 .run{font-weight:400;color:var(--muted);font-size:16px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h2 .count{font-weight:400;color:var(--muted)}
h4{margin:12px 0 4px;font-size:13px;color:var(--muted)}
.status{padding:10px 12px;border-radius:6px;border-left:6px solid;margin:8px 0}
.s-clean{background:#f0fdf4;border-color:var(--ok)}.s-violations{background:#fef2f2;border-color:var(--bad)}
.s-inconclusive,.s-interrupted,.s-thresholds_failed{background:#fffbeb;border-color:var(--warn)}.s-unreachable,.s-usage_error{background:#f1f5f9;border-color:#64748b}
.notice{padding:8px 12px;border-radius:6px;margin:8px 0}
.notice.masked{background:#f1f5f9}.notice.revealed{background:#fee2e2;border:2px solid var(--bad)}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:6px 16px;margin:12px 0}
.facts div{border-bottom:1px solid var(--line);padding:2px 0}.facts dt{color:var(--muted);font-size:12px}.facts dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.files{margin:8px 0;color:var(--muted)}
a{color:#1d4ed8}
table{border-collapse:collapse;width:100%;margin:6px 0;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f8fafc;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto}td time,td.t{white-space:nowrap}
td.bad,.o-failed{color:var(--bad);font-weight:600}.o-warned{color:var(--warn);font-weight:600}.o-passed{color:var(--ok)}.o-not-run{color:var(--muted)}
.absent{color:#94a3b8;font-style:italic}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
figure.chart{margin:8px 0 16px}figure.chart svg{width:100%;height:auto;display:block;border:1px solid var(--line);border-radius:6px;background:#fff}
figcaption{color:var(--muted);font-size:12px}
.readout{position:fixed;pointer-events:none;background:#0f172a;color:#fff;padding:4px 8px;border-radius:4px;font-size:12px}
.hint{color:var(--muted);font-size:12px}
details.finding{border:1px solid var(--line);border-radius:6px;margin:6px 0;padding:0 10px}
details.finding summary{cursor:pointer;padding:6px 0;overflow-wrap:anywhere}
.badge{display:inline-block;padding:0 6px;border-radius:4px;color:#fff;font-size:12px}.badge.fail{background:var(--bad)}.badge.warn{background:var(--warn)}
.kv th{width:110px}.headers th{width:140px}
pre.excerpt{white-space:pre-wrap;overflow-wrap:anywhere;background:#f8fafc;border:1px solid var(--line);padding:8px;border-radius:4px;max-height:320px;overflow:auto}
mark{background:#fde047;color:#000;padding:0 1px;border-radius:2px}
.filter button{border:1px solid var(--line);background:#fff;border-radius:4px;padding:2px 8px;cursor:pointer}.filter button.on{background:#0f172a;color:#fff}
footer{margin-top:32px;color:var(--muted);font-size:12px}
"#;
