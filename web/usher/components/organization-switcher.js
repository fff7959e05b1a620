// <usher-organization-switcher>: the personal account and each organization of the user's
// memberships; choosing one calls setActive({ organization }).
import { UsherElement, app, h, t } from './base.js';

export class OrganizationSwitcherElement extends UsherElement {
  init() { return { busy: false }; }
  viewKey() {
    const u = app.$user.get();
    const orgs = u ? u.organizationMemberships.map(m => [m.organization.id, m.organization.name, m.role]) : null;
    const active = app.$organization.get();
    return JSON.stringify([this.s, orgs, active ? active.id : null]);
  }
  render() {
    const u = app.$user.get();
    if (!u) return document.createDocumentFragment();
    const active = app.$organization.get();
    const id = this.id('org');
    const choose = e => {
      const organization = e.target.value || null;
      this.setState({ busy: true });
      app.setActive({ organization })
        .catch(err => console.error('usher: setActive', err))
        .finally(() => this.setState({ busy: false }));
    };
    const option = (value, label) => h('option', { value, selected: (active ? active.id : '') === value }, label);
    return h('div', { class: 'usher-org-switcher' },
      h('label', { for: id }, t('organizationSwitcher.label')),
      h('select', { id, name: 'organization', 'data-k': 'organization', disabled: this.s.busy, onchange: choose },
        option('', t('organizationSwitcher.personalWorkspace')),
        ...u.organizationMemberships.map(m => option(m.organization.id, m.organization.name))));
  }
}
