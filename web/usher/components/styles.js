// The components' styles, injected once into <head>. :where() keeps specificity at zero so that
// page styles always win; --usher-* custom properties come from appearance.variables.
// A backslash at the end of a line continues it: the injected text is unchanged.
export const CSS = `
:where(usher-sign-in,usher-sign-up,usher-user-profile,usher-user-button,usher-sign-in-button,usher-sign-up-button,\
usher-sign-out-button){
--_p:var(--usher-color-primary,#3b49df);--_op:var(--usher-color-text-on-primary-background,#fff);\
--_t:var(--usher-color-text,#1f2328);
--_m:var(--usher-color-text-secondary,#57606a);--_bg:var(--usher-color-background,#fff);\
--_d:var(--usher-color-danger,#b42318);
--_ok:var(--usher-color-success,#1a7f37);--_n:var(--usher-color-neutral,#d0d7de);--_r:var(--usher-border-radius,.5rem);
--_ib:var(--usher-color-input-background,#fff);--_it:var(--usher-color-input-text,var(--_t));
font-family:var(--usher-font-family,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);\
font-size:var(--usher-font-size,1rem);line-height:1.45;color:var(--_t)}
:where(usher-sign-in,usher-sign-up,usher-user-profile){display:block}\
usher-signed-in[hidden],usher-signed-out[hidden],usher-protect[hidden]{display:none!important}
:where(.usher-card){box-sizing:border-box;width:100%;max-width:26rem;margin:0 auto;padding:1.5rem;\
background:var(--_bg);border:1px solid var(--_n);border-radius:calc(var(--_r)*1.5);\
box-shadow:0 1px 3px rgba(0,0,0,.08)}
:where(.usher-profile){max-width:36rem}:where(.usher-card h2){margin:0 0 .25rem;font-size:1.3rem}\
:where(.usher-card h3){margin:0 0 .75rem;font-size:1.05rem}
:where(.usher-sub){margin:0 0 1.25rem;color:var(--_m)}:where(.usher-field){display:flex;flex-direction:column;\
gap:.3rem;margin-bottom:1rem}
:where(.usher-field label){font-weight:600;font-size:.9rem}:where(.usher-hint){font-weight:400;color:var(--_m)}
:where(.usher-input){box-sizing:border-box;width:100%;min-height:2.75rem;padding:.6rem .75rem;font:inherit;\
font-size:16px;color:var(--_it);background:var(--_ib);border:1px solid #8c959f;border-radius:var(--_r)}
:where(.usher-input:focus-visible,.usher-button:focus-visible,.usher-link:focus-visible){outline:2px solid var(--_p);\
outline-offset:2px}
:where(.usher-input[aria-invalid=true]){border-color:var(--_d)}
:where(.usher-button){box-sizing:border-box;display:inline-flex;align-items:center;justify-content:center;\
min-height:2.75rem;padding:.55rem 1rem;font:inherit;font-weight:600;color:var(--_t);background:var(--_bg);\
border:1px solid var(--_n);border-radius:var(--_r);cursor:pointer}
:where(.usher-button[disabled]){opacity:.6;cursor:progress}:where(.usher-primary){background:var(--_p);\
color:var(--_op);border-color:transparent}
:where(.usher-block){width:100%}:where(.usher-link){background:none;border:0;padding:.25rem 0;font:inherit;\
color:var(--_p);text-decoration:underline;cursor:pointer}
:where(.usher-links){display:flex;flex-wrap:wrap;gap:.5rem 1rem;margin-top:1rem}
:where(.usher-alert){margin:0 0 1rem;padding:.6rem .75rem;border:1px solid currentColor;border-radius:var(--_r);\
color:var(--_d);background:#fef3f2}
:where(.usher-status){margin:0 0 1rem;color:var(--_ok)}:where(.usher-foot){margin:1.25rem 0 0;color:var(--_m)}\
:where(.usher-foot a){color:var(--_p)}
:where(.usher-section){border-top:1px solid var(--_n);margin-top:1.25rem;padding-top:1.25rem}\
:where(.usher-list){list-style:none;margin:0 0 1rem;padding:0}
:where(.usher-row){display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;justify-content:space-between;\
padding:.5rem 0;border-bottom:1px solid var(--_n)}
:where(.usher-badge){font-size:.75rem;padding:.1rem .5rem;border-radius:999px;background:#eaeef2;color:var(--_t)}
:where(.usher-check){display:flex;gap:.5rem;align-items:center;margin-bottom:1rem}:where(.usher-ub){position:relative;\
display:inline-block}
:where(.usher-avatar){width:2.5rem;height:2.5rem;padding:0;border-radius:50%;border:0;background:var(--_p);\
color:var(--_op);font:inherit;font-weight:700;cursor:pointer;overflow:hidden}
:where(.usher-avatar img){width:100%;height:100%;object-fit:cover}
:where(.usher-menu){position:absolute;right:0;top:calc(100% + .5rem);z-index:1000;min-width:15rem;\
max-width:calc(100vw - 1rem);box-sizing:border-box;padding:.5rem 0;background:var(--_bg);border:1px solid var(--_n);\
border-radius:var(--_r);box-shadow:0 8px 24px rgba(0,0,0,.15)}
:where(.usher-menu-head){padding:.5rem 1rem;border-bottom:1px solid var(--_n);margin-bottom:.25rem;\
overflow-wrap:anywhere}
:where(.usher-menu [role=menuitem]){display:block;box-sizing:border-box;width:100%;min-height:2.75rem;\
padding:.65rem 1rem;text-align:left;font:inherit;color:var(--_t);background:none;border:0;text-decoration:none;\
cursor:pointer}
:where(.usher-menu [role=menuitem]:hover,.usher-menu [role=menuitem]:focus){background:#f3f4f6}
@media (max-width:420px){:where(.usher-card){padding:1rem;border-radius:var(--_r)}}
:where(.usher-providers){display:grid;gap:.5rem}:where(.usher-provider){gap:.6rem;width:100%}
:where(.usher-divider){display:flex;align-items:center;gap:.75rem;color:#6b7280;margin:1rem 0}
:where(.usher-divider)::before,:where(.usher-divider)::after{content:"";flex:1;border-top:1px solid #e5e7eb}`;
