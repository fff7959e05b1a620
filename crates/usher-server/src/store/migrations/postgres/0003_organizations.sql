-- Organizations, their memberships and invitations, and the instance's roles and permissions.
-- A membership names its role by key (`org:admin`): roles are instance-wide and keys are what
-- tokens and the API speak.
CREATE TABLE organizations (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    slug                    TEXT NOT NULL UNIQUE,
    image_url               TEXT,
    created_by              TEXT,
    public_metadata         TEXT NOT NULL DEFAULT '{}',
    private_metadata        TEXT NOT NULL DEFAULT '{}',
    max_allowed_memberships BIGINT NOT NULL DEFAULT 0,
    admin_delete_enabled    BIGINT NOT NULL DEFAULT 1,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX organizations_created_at ON organizations (created_at, id);

CREATE TABLE organization_memberships (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role             TEXT NOT NULL,
    public_metadata  TEXT NOT NULL DEFAULT '{}',
    private_metadata TEXT NOT NULL DEFAULT '{}',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (organization_id, user_id)
);
CREATE INDEX organization_memberships_user ON organization_memberships (user_id);

CREATE TABLE organization_invitations (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email_address    TEXT NOT NULL,
    role             TEXT NOT NULL,
    status           TEXT NOT NULL,
    inviter_user_id  TEXT REFERENCES users (id) ON DELETE SET NULL,
    redirect_url     TEXT,
    ticket_digest    TEXT NOT NULL UNIQUE,
    public_metadata  TEXT NOT NULL DEFAULT '{}',
    private_metadata TEXT NOT NULL DEFAULT '{}',
    expires_at       BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX organization_invitations_org ON organization_invitations (organization_id, created_at);
CREATE INDEX organization_invitations_email ON organization_invitations (email_address);

CREATE TABLE organization_roles (
    id          TEXT PRIMARY KEY,
    role_key    TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE organization_permissions (
    id             TEXT PRIMARY KEY,
    permission_key TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    system         BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE organization_role_permissions (
    role_id       TEXT NOT NULL REFERENCES organization_roles (id) ON DELETE CASCADE,
    permission_id TEXT NOT NULL REFERENCES organization_permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);

-- Clerk's defaults: an admin holding every system permission, and a member who may read the
-- member list.
INSERT INTO organization_roles (id, role_key, name, description, created_at, updated_at) VALUES
    ('role_admin', 'org:admin', 'Admin', 'Can manage the organization and its members.', 0, 0),
    ('role_member', 'org:member', 'Member', 'Can see the organization and its members.', 0, 0);
INSERT INTO organization_permissions (id, permission_key, name, description, system, created_at, updated_at) VALUES
    ('perm_sys_profile_manage', 'org:sys_profile:manage', 'Manage organization', 'Update the organization profile.', 1, 0, 0),
    ('perm_sys_profile_delete', 'org:sys_profile:delete', 'Delete organization', 'Delete the organization.', 1, 0, 0),
    ('perm_sys_memberships_read', 'org:sys_memberships:read', 'Read members', 'See the members.', 1, 0, 0),
    ('perm_sys_memberships_manage', 'org:sys_memberships:manage', 'Manage members', 'Invite, remove and change members.', 1, 0, 0),
    ('perm_sys_domains_read', 'org:sys_domains:read', 'Read domains', 'See the verified domains.', 1, 0, 0),
    ('perm_sys_domains_manage', 'org:sys_domains:manage', 'Manage domains', 'Add and remove verified domains.', 1, 0, 0);
INSERT INTO organization_role_permissions (role_id, permission_id) VALUES
    ('role_admin', 'perm_sys_profile_manage'),
    ('role_admin', 'perm_sys_profile_delete'),
    ('role_admin', 'perm_sys_memberships_read'),
    ('role_admin', 'perm_sys_memberships_manage'),
    ('role_admin', 'perm_sys_domains_read'),
    ('role_admin', 'perm_sys_domains_manage'),
    ('role_member', 'perm_sys_memberships_read');
