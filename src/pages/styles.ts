/**
 * The one stylesheet of the customer pages, served from our own origin (CSP `style-src 'self'`).
 * Mobile first: one column, large type and tap targets of at least 48 px; wider screens only get
 * more room. Genuine and not-genuine results differ in colour, icon and words, never colour alone.
 */
export const PAGES_CSS = `
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC",sans-serif;font-size:1.125rem;line-height:1.55;color:#1a1a1a;background:#f4f5f7}
a{color:#0b4f9c;text-underline-offset:.15em}
a:focus-visible,button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #ffb703;outline-offset:2px}
.top{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem 1rem;padding:.75rem 1rem;background:#fff;border-bottom:1px solid #d8dbe0}
.brand{font-weight:700;font-size:1.15rem}
.langs{display:flex;gap:.25rem;flex-wrap:wrap}
.langs a{display:inline-block;padding:.5rem .65rem;min-height:44px;border-radius:.4rem;text-decoration:none;font-size:1rem}
.langs a[aria-current="true"]{background:#e6eefb;font-weight:700;color:#1a1a1a}
main{max-width:38rem;margin:0 auto;padding:1.25rem 1rem 2rem}
h1{font-size:1.6rem;line-height:1.25;margin:.25rem 0 1rem}
h2{font-size:1.25rem;margin:2rem 0 .75rem}
.card>h2:first-child{margin-top:0}
p{margin:0 0 1rem}
.card{background:#fff;border:1px solid #d8dbe0;border-radius:.75rem;padding:1.25rem 1rem;margin:0 0 1.25rem}
.warning{border-left:6px solid #b26a00;background:#fff8e6;padding:.85rem 1rem;border-radius:.5rem;margin:0 0 1.25rem}
.field{margin:0 0 1.25rem}
label,legend{display:block;font-weight:600;margin:0 0 .4rem}
.hint{display:block;color:#4a4f57;font-size:1rem;margin:0 0 .4rem}
input[type=text],input[type=tel],textarea{display:block;width:100%;font:inherit;font-size:1.25rem;padding:.7rem .8rem;min-height:3.25rem;border:2px solid #59606b;border-radius:.5rem;background:#fff;color:inherit}
textarea{min-height:7rem;font-size:1.125rem;resize:vertical}
input.code{letter-spacing:.35em;font-variant-numeric:tabular-nums;font-size:1.6rem}
[aria-invalid="true"]{border-color:#b00020}
.error{display:block;color:#b00020;font-weight:700;margin:0 0 .4rem}
.error-summary{border:3px solid #b00020;border-radius:.5rem;padding:.75rem 1rem;margin:0 0 1.25rem;background:#fff;font-weight:700;color:#b00020}
fieldset{border:0;padding:0;margin:0 0 1.25rem}
.choice{display:flex;align-items:center;gap:.75rem;min-height:3.25rem;padding:.6rem .85rem;margin:0 0 .5rem;border:2px solid #c3c8d0;border-radius:.5rem;background:#fff;font-weight:400;cursor:pointer}
.choice input{width:1.4rem;height:1.4rem;margin:0;flex:none;accent-color:#0b4f9c}
.choice:has(input:checked){border-color:#0b4f9c;background:#eef4fd}
.button{display:block;width:100%;min-height:3.25rem;padding:.8rem 1rem;margin:0 0 .75rem;font:inherit;font-size:1.15rem;font-weight:700;text-align:center;text-decoration:none;border:2px solid #0b4f9c;border-radius:.5rem;background:#0b4f9c;color:#fff;cursor:pointer}
.button.secondary{background:#fff;color:#0b4f9c}
.button.danger{background:#b00020;border-color:#b00020;color:#fff}
.result{border-radius:.75rem;padding:1.25rem 1rem;margin:0 0 1.25rem;color:#fff}
.result .badge{display:inline-flex;align-items:center;gap:.5rem;font-size:1rem;font-weight:700;text-transform:uppercase;letter-spacing:.04em;margin:0 0 .35rem}
.result .icon{display:inline-flex;align-items:center;justify-content:center;width:2rem;height:2rem;border-radius:50%;background:#fff;font-size:1.25rem;line-height:1}
.result h1{font-size:1.9rem;margin:0 0 .5rem;color:#fff}
.result p{margin:0;font-size:1.15rem}
.result.genuine{background:#0d6b32}
.result.genuine .icon{color:#0d6b32}
.result.danger{background:#b00020}
.result.danger .icon{color:#b00020}
.tone-danger .top{border-bottom:6px solid #b00020}
.tone-genuine .top{border-bottom:6px solid #0d6b32}
.steps{padding-left:1.75rem;margin:0 0 1.25rem;font-size:1.2rem;font-weight:600}
.steps li{margin:0 0 .4rem}
dl.facts{margin:0}
dl.facts div{padding:.6rem 0;border-bottom:1px solid #e3e5e9}
dl.facts div:last-child{border-bottom:0}
dl.facts dt{font-size:.95rem;color:#4a4f57}
dl.facts dd{margin:0;font-size:1.2rem;font-weight:600;overflow-wrap:anywhere}
.numbers{list-style:none;padding:0;margin:0}
.numbers li{margin:0 0 .75rem}
.numbers li:last-child,.numbers li:last-child .button{margin-bottom:0}
.numbers .label{display:block;font-size:.95rem;color:#4a4f57}
footer{max-width:38rem;margin:0 auto;padding:0 1rem 2.5rem;font-size:1rem;color:#4a4f57}
footer nav{display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;margin:.5rem 0 0}
footer nav a{display:inline-block;padding:.5rem 0;min-height:44px}
@media (min-width:48rem){
  body{font-size:1.1rem}
  main{padding:2.5rem 1.5rem 2rem}
  footer{padding:0 1.5rem 2.5rem}
  .top{padding:.9rem max(1.5rem,calc(50vw - 17.5rem))}
  .card{padding:1.75rem 1.75rem}
  .button{display:inline-block;width:auto;min-width:14rem;margin-right:.75rem}
  h1{font-size:2rem}
}
`;
