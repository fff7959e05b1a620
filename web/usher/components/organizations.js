// The organization components: <usher-create-organization>, <usher-organization-list> and
// <usher-organization-profile>. Each shows only what the caller's role permits (the active
// membership's permissions, system ones included); the server checks every action again.
import { UsherElement, app, card, h, t } from './base.js';

const MANAGE_PROFILE = 'org:sys_profile:manage';
const DELETE_PROFILE = 'org:sys_profile:delete';
const READ_MEMBERS = 'org:sys_memberships:read';
const MANAGE_MEMBERS = 'org:sys_memberships:manage';

/** The user's membership of the active organization, or null. */
function activeMembership() {
  const u = app.$user.get();
  const org = app.$organization.get();
  return (u && org && u.organizationMemberships.find(m => m.organization.id === org.id)) || null;
}
const may = (m, permission) => !!m && m.permissions.includes(permission);

/** <usher-create-organization after-create-url="…">: name (and slug); the new one becomes active. */
export class CreateOrganizationElement extends UsherElement {
  init() { return { create: {} }; }
  viewKey() { return JSON.stringify([this.s, !!app.$auth.get().userId, app.state.loaded]); }
  render() {
    if (!app.$auth.get().userId) return document.createDocumentFragment();
    const err = this.s.create.error;
    const alertId = this.id('create-alert');
    return card('usher-create-org', t('createOrganization.title'), null, this.alert('create-alert', err),
      this.form('create', v => this.create(v),
        this.field('name', t('formFieldLabel__organizationName'), { required: true, autocomplete: 'organization' }, err, alertId),
        this.field('slug', t('formFieldLabel__organizationSlug'), {}, err, alertId, t('formFieldHintText__optional')),
        this.submit(t('createOrganization.submit'), this.s.create.busy)));
  }
  async create(v) {
    const org = await app.clerk.createOrganization({ name: v.name, slug: v.slug || undefined });
    await app.setActive({ organization: org.id });
    this._discard = true;
    const next = this.getAttribute('after-create-url');
    if (next) app.navigate(next);
  }
}

/** <usher-organization-list>: the personal account, each membership, and invitations to accept. */
export class OrganizationListElement extends UsherElement {
  init() { return { list: {}, invitations: null, loadedFor: null }; }
  viewKey() {
    const u = app.$user.get();
    const orgs = u ? u.organizationMemberships.map(m => [m.organization.id, m.organization.name, m.role]) : null;
    const active = app.$organization.get();
    return JSON.stringify([this.s, orgs, active ? active.id : null]);
  }
  update() {
    const u = app.$user.get();
    if (u && this.s.loadedFor !== u.id) {
      this.s.loadedFor = u.id;
      this.loadInvitations();
    }
    super.update();
  }
  loadInvitations() {
    const u = app.$user.get();
    if (!u) return;
    u.getOrganizationInvitations().then(
      r => this.setState({ invitations: r.data.map(i => ({ id: i.id, name: i.publicOrganizationData.name, role: i.roleName })) }),
      err => this.setState({ list: { error: app.errorInfo(err) } }));
  }
  render() {
    const u = app.$user.get();
    if (!u) return document.createDocumentFragment();
    const active = app.$organization.get();
    const choose = organization => () => this.run('list', () => app.setActive({ organization }));
    const row = (id, name, role) => h('li', { class: 'usher-row', 'data-organization': id || 'personal' },
      h('span', null, name, role ? h('span', { class: 'usher-hint' }, ' · ' + role) : null),
      (active ? active.id : null) === id
        ? h('span', { class: 'usher-badge' }, t('organizationList.active'))
        : h('button', { type: 'button', class: 'usher-button', 'data-k': 'select-' + (id || 'personal'),
          disabled: !!this.s.list.busy, onclick: choose(id) }, t('organizationList.select')));
    const invitations = this.s.invitations || [];
    const accept = id => () => this.run('list', async () => {
      const inv = (await u.getOrganizationInvitations()).data.find(i => i.id === id);
      if (inv) await inv.accept();
      this.loadInvitations();
    });
    return card('usher-org-list', t('organizationList.title'), null, this.alert('list-alert', this.s.list.error),
      h('ul', { class: 'usher-list' },
        row(null, t('organizationList.personal'), null),
        u.organizationMemberships.map(m => row(m.organization.id, m.organization.name, m.roleName))),
      u.organizationMemberships.length ? null : h('p', { class: 'usher-sub' }, t('organizationList.none')),
      invitations.length ? h('section', { class: 'usher-section' }, h('h3', null, t('organizationList.invitations')),
        h('ul', { class: 'usher-list' }, invitations.map(i => h('li', { class: 'usher-row', 'data-invitation': i.id },
          h('span', null, i.name, h('span', { class: 'usher-hint' }, ' · ' + i.role)),
          h('button', { type: 'button', class: 'usher-button usher-primary', 'data-k': 'accept-' + i.id,
            disabled: !!this.s.list.busy, onclick: accept(i.id) }, t('organizationList.accept')))))) : null);
  }
}

/**
 * <usher-organization-profile>: the active organization's profile, members, invitations and roles.
 * Sections and controls follow the caller's permissions: reading members needs
 * org:sys_memberships:read, changing roles, removing members and inviting need
 * org:sys_memberships:manage, renaming org:sys_profile:manage, deleting org:sys_profile:delete.
 */
export class OrganizationProfileElement extends UsherElement {
  init() {
    return { general: {}, members: { list: null }, invitations: { list: null }, danger: {}, roles: null, loadedFor: null };
  }
  viewKey() {
    const m = activeMembership();
    const key = m ? [m.organization.id, m.organization.name, m.organization.slug, m.role, m.permissions] : null;
    return JSON.stringify([this.s, key, app.state.loaded]);
  }
  update() {
    const m = activeMembership();
    const key = m ? m.organization.id + '|' + m.role : null;
    if (key !== this.s.loadedFor) {
      this.s.loadedFor = key;
      this.s.members = { list: null };
      this.s.invitations = { list: null };
      this.s.roles = null;
      if (m) this.reload(m);
    }
    super.update();
  }
  async reload(m) {
    const org = m.organization;
    const fail = section => err => this.setState({ [section]: Object.assign({}, this.s[section], { error: app.errorInfo(err) }) });
    org.getRoles().then(r => this.setState({ roles: r.data.map(x => ({ key: x.key, name: x.name })) }), fail('members'));
    if (may(m, READ_MEMBERS)) {
      org.getMemberships({ pageSize: 100 }).then(r => this.setState({
        members: Object.assign({}, this.s.members, {
          list: r.data.map(x => ({ userId: x.publicUserData.userId, identifier: x.publicUserData.identifier, role: x.role, roleName: x.roleName })),
        }),
      }), fail('members'));
    }
    if (may(m, MANAGE_MEMBERS)) {
      org.getInvitations({ status: 'pending' }).then(r => this.setState({
        invitations: Object.assign({}, this.s.invitations, {
          list: r.data.map(i => ({ id: i.id, email: i.emailAddress, roleName: i.roleName })),
        }),
      }), fail('invitations'));
    }
  }
  section(key, title, ...kids) {
    const sec = this.s[key];
    return h('section', { class: 'usher-section', 'aria-labelledby': this.id('h-' + key), 'data-section': key },
      h('h3', { id: this.id('h-' + key) }, title), this.alert(key + '-alert', sec.error),
      sec.ok ? h('p', { class: 'usher-status', role: 'status' }, sec.ok) : null, kids);
  }
  render() {
    if (!app.$auth.get().userId) return document.createDocumentFragment();
    const m = activeMembership();
    if (!m) return card('usher-org-profile', t('organizationProfile.title'), t('organizationProfile.none'));
    const org = m.organization;
    return card('usher-org-profile', org.name, null,
      may(m, MANAGE_PROFILE) ? this.generalSection(org) : null,
      may(m, READ_MEMBERS) ? this.membersSection(m) : null,
      may(m, MANAGE_MEMBERS) ? this.invitationsSection(m) : null,
      this.rolesSection(),
      this.dangerSection(m));
  }
  generalSection(org) {
    const err = this.s.general.error;
    const alertId = this.id('general-alert');
    return this.section('general', t('organizationProfile.general'),
      this.form('general', v => this.saveGeneral(org, v),
        this.field('name', t('formFieldLabel__organizationName'), { value: org.name, required: true }, err, alertId),
        this.field('slug', t('formFieldLabel__organizationSlug'), { value: org.slug }, err, alertId),
        this.submit(t('organizationProfile.save'), this.s.general.busy)));
  }
  async saveGeneral(org, v) {
    await org.update({ name: v.name, slug: v.slug || undefined });
    this._discard = ['name', 'slug'];
    this.s.general = { ok: t('organizationProfile.saved') };
  }
  roleSelect(name, label, current, onchange, disabled) {
    const id = this.id(name);
    const roles = this.s.roles || [{ key: current, name: current }];
    return h('span', null, h('label', { for: id, class: 'usher-hint' }, label + ' '),
      h('select', { id, name, 'data-k': name, disabled: !!disabled, onchange },
        roles.map(r => h('option', { value: r.key, selected: r.key === current }, r.name))));
  }
  membersSection(m) {
    const manage = may(m, MANAGE_MEMBERS);
    const me = app.$auth.get().userId;
    const list = this.s.members.list || [];
    const change = userId => e => this.run('members', async () => {
      await m.organization.updateMember({ userId, role: e.target.value });
      await this.reload(m);
    });
    const remove = userId => () => this.run('members', async () => {
      await m.organization.removeMember(userId);
      await this.reload(m);
    });
    return this.section('members', t('organizationProfile.members'),
      h('ul', { class: 'usher-list' }, list.map(x => h('li', { class: 'usher-row', 'data-member': x.identifier },
        h('span', null, x.identifier),
        manage && x.userId !== me
          ? h('span', null,
            this.roleSelect('role-' + x.userId, t('organizationProfile.role', { name: x.identifier }), x.role, change(x.userId), this.s.members.busy),
            ' ', h('button', { type: 'button', class: 'usher-button', 'data-k': 'remove-' + x.userId,
              disabled: !!this.s.members.busy, onclick: remove(x.userId) }, t('organizationProfile.remove')))
          : h('span', { class: 'usher-badge' }, x.roleName)))));
  }
  invitationsSection(m) {
    const err = this.s.invitations.error;
    const alertId = this.id('invitations-alert');
    const list = this.s.invitations.list || [];
    const revoke = id => () => this.run('invitations', async () => {
      const inv = (await m.organization.getInvitations({ status: 'pending' })).data.find(i => i.id === id);
      if (inv) await inv.revoke();
      await this.reload(m);
    });
    return this.section('invitations', t('organizationProfile.invitations'),
      list.length
        ? h('ul', { class: 'usher-list' }, list.map(i => h('li', { class: 'usher-row', 'data-invitation': i.email },
          h('span', null, i.email, h('span', { class: 'usher-hint' }, ' · ' + i.roleName)),
          h('button', { type: 'button', class: 'usher-button', 'data-k': 'revoke-' + i.id,
            disabled: !!this.s.invitations.busy, onclick: revoke(i.id) }, t('organizationProfile.revoke')))))
        : h('p', { class: 'usher-sub' }, t('organizationProfile.noInvitations')),
      this.form('invitations', v => this.invite(m, v),
        this.field('email_address', t('formFieldLabel__emailAddress_invite'), { type: 'email', required: true, autocomplete: 'off' }, err, alertId),
        this.roleSelect('invite_role', t('formFieldLabel__role'), 'org:member', null, this.s.invitations.busy),
        this.submit(t('organizationProfile.invite'), this.s.invitations.busy)));
  }
  async invite(m, v) {
    await m.organization.inviteMember({ emailAddress: v.email_address, role: v.invite_role || 'org:member' });
    this._discard = ['email_address'];
    this.s.invitations = Object.assign({}, this.s.invitations, { ok: t('organizationProfile.invited', { email: v.email_address }) });
    await this.reload(m);
  }
  rolesSection() {
    const roles = this.s.roles;
    if (!roles) return null;
    return h('section', { class: 'usher-section', 'data-section': 'roles' }, h('h3', null, t('organizationProfile.roles')),
      h('ul', { class: 'usher-list' }, roles.map(r => h('li', { class: 'usher-row' }, h('span', null, r.name), h('code', null, r.key)))));
  }
  dangerSection(m) {
    const org = m.organization;
    const leave = () => this.run('danger', async () => {
      await m.destroy();
      await app.setActive({ organization: null });
    });
    const destroy = () => this.run('danger', async () => {
      await org.destroy();
      await app.setActive({ organization: null });
    });
    return this.section('danger', t('organizationProfile.danger'),
      h('button', { type: 'button', class: 'usher-button', 'data-k': 'leave', disabled: !!this.s.danger.busy, onclick: leave },
        t('organizationProfile.leave')),
      may(m, DELETE_PROFILE) && org.adminDeleteEnabled
        ? [' ', h('button', { type: 'button', class: 'usher-button', 'data-k': 'delete', disabled: !!this.s.danger.busy,
          onclick: destroy }, t('organizationProfile.delete'))]
        : null);
  }
}
