//! Organizations, memberships and invitations.

use async_trait::async_trait;
use serde_json::{Map, Value};
use sqlx::{Row, any::AnyRow};

use super::{Bind, SqlBuilder, SqlStore, flag, json_object, map_write_err, read_flag, state, users::like_pattern};
use crate::store::{
    ADMIN_ROLE, Change, InvitationAcceptance, InvitationFilter, InvitationRecord, InvitationStatus, InvitationView,
    MembershipChange, MembershipFilter, MembershipRecord, MembershipView, OrganizationOrder, OrganizationQuery,
    OrganizationRecord, OrganizationStore, Page, StoreResult,
};

const ORG_COLUMNS: &str = "id, name, slug, image_url, created_by, public_metadata, private_metadata, \
    max_allowed_memberships, admin_delete_enabled, created_at, updated_at";
const MEMBERSHIP_COLUMNS: &str =
    "id, organization_id, user_id, role, public_metadata, private_metadata, created_at, updated_at";
const INVITATION_COLUMNS: &str = "id, organization_id, email_address, role, status, inviter_user_id, redirect_url, \
    ticket_digest, public_metadata, private_metadata, expires_at, created_at, updated_at";

/// `cols` with each name prefixed by `table.` and aliased `alias<name>`, for joins.
fn qualified(cols: &str, table: &str, alias: &str) -> String {
    cols.split(',').map(|c| format!("{table}.{0} AS {alias}{0}", c.trim())).collect::<Vec<_>>().join(", ")
}

fn meta(m: &Map<String, Value>) -> String {
    Value::Object(m.clone()).to_string()
}

#[async_trait]
impl OrganizationStore for SqlStore {
    async fn create_organization(&self, o: &OrganizationRecord, creator: Option<&MembershipRecord>) -> StoreResult<()> {
        // One transaction: an organization never exists without its first admin.
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO organizations ({ORG_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&o.id)
        .bind(&o.name)
        .bind(&o.slug)
        .bind(o.image_url.as_deref())
        .bind(o.created_by.as_deref())
        .bind(meta(&o.public_metadata))
        .bind(meta(&o.private_metadata))
        .bind(o.max_allowed_memberships)
        .bind(flag(o.admin_delete_enabled))
        .bind(o.created_at)
        .bind(o.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(map_write_err)?;
        if let Some(m) = creator {
            bind_membership(&format!("INSERT INTO organization_memberships ({MEMBERSHIP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"), m)
                .execute(&mut *tx)
                .await
                .map_err(map_write_err)?;
        }
        self.emit(&mut tx, &[Change::OrganizationCreated(o)]).await?;
        if let Some(m) = creator {
            self.emit_membership(&mut tx, &m.organization_id, &m.user_id, |v| Change::MembershipCreated(v)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn get_organization(&self, id_or_slug: &str) -> StoreResult<Option<OrganizationRecord>> {
        // Ids have a prefix no slug may start with, so the two never collide.
        let row = sqlx::query(&format!("SELECT {ORG_COLUMNS} FROM organizations WHERE id = $1 OR slug = $1"))
            .bind(id_or_slug)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|r| org_from_row(r, "")).transpose()
    }

    async fn list_organizations(
        &self,
        q: &OrganizationQuery,
        page: Page,
    ) -> StoreResult<(Vec<(OrganizationRecord, i64)>, i64)> {
        let mut b = SqlBuilder::new(" FROM organizations o WHERE 1 = 1");
        if let Some(text) = q.query.as_deref().filter(|t| !t.is_empty()) {
            let pattern = like_pattern(text);
            b.push(" AND (LOWER(o.name) LIKE ").bind(Bind::Text(pattern.clone())).push(" ESCAPE '\\'");
            b.push(" OR o.slug LIKE ").bind(Bind::Text(pattern.clone())).push(" ESCAPE '\\'");
            b.push(" OR LOWER(o.id) LIKE ").bind(Bind::Text(pattern)).push(" ESCAPE '\\')");
        }
        let total: i64 = {
            let count = SqlBuilder { sql: format!("SELECT COUNT(*) AS n{}", b.sql), binds: b.binds.clone() };
            count.query().fetch_one(&self.pool).await?.try_get("n")?
        };
        let order = match q.order {
            OrganizationOrder::CreatedAt => "o.created_at",
            OrganizationOrder::Name => "o.name",
            OrganizationOrder::MembersCount => "members_count",
        };
        let dir = if q.descending { "DESC" } else { "ASC" };
        let cols = ORG_COLUMNS.split(',').map(|c| format!("o.{}", c.trim())).collect::<Vec<_>>().join(", ");
        b.sql = format!(
            "SELECT {cols}, (SELECT COUNT(*) FROM organization_memberships m WHERE m.organization_id = o.id) AS members_count{} ORDER BY {order} {dir}, o.id {dir} LIMIT ",
            b.sql
        );
        b.bind(Bind::Int(page.limit)).push(" OFFSET ").bind(Bind::Int(page.offset));
        let rows = b.query().fetch_all(&self.pool).await?;
        let orgs = rows
            .iter()
            .map(|r| Ok((org_from_row(r, "")?, r.try_get::<i64, _>("members_count")?)))
            .collect::<StoreResult<_>>()?;
        Ok((orgs, total))
    }

    async fn update_organization(&self, o: &OrganizationRecord) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE organizations SET name = $2, slug = $3, image_url = $4, created_by = $5, public_metadata = $6, \
             private_metadata = $7, max_allowed_memberships = $8, admin_delete_enabled = $9, updated_at = $10 WHERE id = $1",
        )
        .bind(&o.id)
        .bind(&o.name)
        .bind(&o.slug)
        .bind(o.image_url.as_deref())
        .bind(o.created_by.as_deref())
        .bind(meta(&o.public_metadata))
        .bind(meta(&o.private_metadata))
        .bind(o.max_allowed_memberships)
        .bind(flag(o.admin_delete_enabled))
        .bind(o.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(map_write_err)?;
        if done.rows_affected() == 1 {
            self.emit(&mut tx, &[Change::OrganizationUpdated(o)]).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_organization(&self, id: &str) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM organizations WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 1 {
            self.emit(&mut tx, &[Change::OrganizationDeleted(id)]).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_membership(&self, m: &MembershipRecord) -> StoreResult<bool> {
        // The count and the insert are one statement, so two requests cannot both take the
        // last place.
        let sql = format!(
            "INSERT INTO organization_memberships ({MEMBERSHIP_COLUMNS}) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM organizations o WHERE o.id = $2 \
             AND (o.max_allowed_memberships = 0 OR \
                  (SELECT COUNT(*) FROM organization_memberships c WHERE c.organization_id = $2) < o.max_allowed_memberships)"
        );
        let mut tx = self.pool.begin().await?;
        let done = bind_membership(&sql, m).execute(&mut *tx).await.map_err(map_write_err)?;
        if done.rows_affected() == 1 {
            self.emit_membership(&mut tx, &m.organization_id, &m.user_id, |v| Change::MembershipCreated(v)).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn get_membership(&self, organization_id: &str, user_id: &str) -> StoreResult<Option<MembershipRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {MEMBERSHIP_COLUMNS} FROM organization_memberships WHERE organization_id = $1 AND user_id = $2"
        ))
        .bind(organization_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(|r| membership_from_row(r, "")).transpose()
    }

    async fn user_memberships(&self, user_id: &str) -> StoreResult<Vec<(MembershipRecord, OrganizationRecord)>> {
        let rows = sqlx::query(&format!(
            "SELECT {}, {} FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id \
             WHERE m.user_id = $1 ORDER BY m.created_at, m.id",
            qualified(MEMBERSHIP_COLUMNS, "m", "m_"),
            qualified(ORG_COLUMNS, "o", "o_"),
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((membership_from_row(r, "m_")?, org_from_row(r, "o_")?))).collect()
    }

    async fn list_memberships(
        &self,
        f: &MembershipFilter,
        page: Page,
    ) -> StoreResult<(Vec<(MembershipRecord, OrganizationRecord)>, i64)> {
        let mut b = SqlBuilder::new(
            " FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id WHERE 1 = 1",
        );
        if let Some(org) = &f.organization_id {
            b.push(" AND m.organization_id = ").bind(Bind::Text(org.clone()));
        }
        if !f.user_ids.is_empty() {
            b.push(" AND m.user_id IN ").bind_list(&f.user_ids);
        }
        if !f.roles.is_empty() {
            b.push(" AND m.role IN ").bind_list(&f.roles);
        }
        let total: i64 = {
            let count = SqlBuilder { sql: format!("SELECT COUNT(*) AS n{}", b.sql), binds: b.binds.clone() };
            count.query().fetch_one(&self.pool).await?.try_get("n")?
        };
        b.sql = format!(
            "SELECT {}, {}{} ORDER BY m.created_at, m.id LIMIT ",
            qualified(MEMBERSHIP_COLUMNS, "m", "m_"),
            qualified(ORG_COLUMNS, "o", "o_"),
            b.sql
        );
        b.bind(Bind::Int(page.limit)).push(" OFFSET ").bind(Bind::Int(page.offset));
        let rows = b.query().fetch_all(&self.pool).await?;
        let list = rows
            .iter()
            .map(|r| Ok((membership_from_row(r, "m_")?, org_from_row(r, "o_")?)))
            .collect::<StoreResult<_>>()?;
        Ok((list, total))
    }

    async fn update_membership_role(
        &self,
        organization_id: &str,
        user_id: &str,
        role: &str,
        now: i64,
    ) -> StoreResult<MembershipChange> {
        let mut tx = self.pool.begin().await?;
        lock_organization(&mut tx, organization_id).await?;
        let done = sqlx::query(&format!(
            "UPDATE organization_memberships SET role = $3, updated_at = $4 \
             WHERE organization_id = $1 AND user_id = $2 AND {}",
            keeps_an_admin("$3 = $5", "$5")
        ))
        .bind(organization_id)
        .bind(user_id)
        .bind(role)
        .bind(now)
        .bind(ADMIN_ROLE)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            self.emit_membership(&mut tx, organization_id, user_id, |v| Change::MembershipUpdated(v)).await?;
        }
        tx.commit().await?;
        let current = self.get_membership(organization_id, user_id).await?;
        Ok(match (done.rows_affected(), current) {
            (_, None) => MembershipChange::NotFound,
            (1, Some(m)) => MembershipChange::Done(m),
            (_, Some(_)) => MembershipChange::LastAdmin,
        })
    }

    async fn update_membership_metadata(&self, m: &MembershipRecord) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE organization_memberships SET public_metadata = $3, private_metadata = $4, updated_at = $5 \
             WHERE organization_id = $1 AND user_id = $2",
        )
        .bind(&m.organization_id)
        .bind(&m.user_id)
        .bind(meta(&m.public_metadata))
        .bind(meta(&m.private_metadata))
        .bind(m.updated_at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            self.emit_membership(&mut tx, &m.organization_id, &m.user_id, |v| Change::MembershipUpdated(v)).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_membership(&self, organization_id: &str, user_id: &str) -> StoreResult<MembershipChange> {
        let Some(current) = self.get_membership(organization_id, user_id).await? else {
            return Ok(MembershipChange::NotFound);
        };
        let mut tx = self.pool.begin().await?;
        lock_organization(&mut tx, organization_id).await?;
        // The event shows the membership as it was, so it is read before it goes.
        let before = match self.events {
            Some(_) => membership_view(&mut tx, organization_id, user_id).await?,
            None => None,
        };
        let done = sqlx::query(&format!(
            "DELETE FROM organization_memberships WHERE organization_id = $1 AND user_id = $2 AND {}",
            keeps_an_admin("1 = 0", "$3")
        ))
        .bind(organization_id)
        .bind(user_id)
        .bind(ADMIN_ROLE)
        .execute(&mut *tx)
        .await?;
        if let (1, Some(view)) = (done.rows_affected(), &before) {
            self.emit(&mut tx, &[Change::MembershipDeleted(view)]).await?;
        }
        tx.commit().await?;
        if done.rows_affected() == 1 {
            return Ok(MembershipChange::Done(current));
        }
        Ok(match self.get_membership(organization_id, user_id).await? {
            None => MembershipChange::NotFound,
            Some(_) => MembershipChange::LastAdmin,
        })
    }

    async fn create_invitation(&self, i: &InvitationRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO organization_invitations ({INVITATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(&i.id)
        .bind(&i.organization_id)
        .bind(&i.email_address)
        .bind(&i.role)
        .bind(i.status.as_str())
        .bind(i.inviter_user_id.as_deref())
        .bind(i.redirect_url.as_deref())
        .bind(&i.ticket_digest)
        .bind(meta(&i.public_metadata))
        .bind(meta(&i.private_metadata))
        .bind(i.expires_at)
        .bind(i.created_at)
        .bind(i.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(map_write_err)?;
        self.emit_invitation(&mut tx, &i.id, |v| Change::InvitationCreated(v)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_invitation(&self, id: &str) -> StoreResult<Option<InvitationRecord>> {
        self.invitation_where("id", id).await
    }

    async fn get_invitation_by_ticket(&self, ticket_digest: &str) -> StoreResult<Option<InvitationRecord>> {
        self.invitation_where("ticket_digest", ticket_digest).await
    }

    async fn list_invitations(&self, f: &InvitationFilter, page: Page) -> StoreResult<(Vec<InvitationRecord>, i64)> {
        let mut b = SqlBuilder::new(" FROM organization_invitations WHERE 1 = 1");
        let status = f.status.map(|s| s.as_str().to_owned());
        for (column, value) in
            [("organization_id", &f.organization_id), ("email_address", &f.email_address), ("status", &status)]
        {
            if let Some(v) = value {
                b.push(&format!(" AND {column} = ")).bind(Bind::Text(v.clone()));
            }
        }
        let total: i64 = {
            let count = SqlBuilder { sql: format!("SELECT COUNT(*) AS n{}", b.sql), binds: b.binds.clone() };
            count.query().fetch_one(&self.pool).await?.try_get("n")?
        };
        b.sql = format!("SELECT {INVITATION_COLUMNS}{} ORDER BY created_at DESC, id DESC LIMIT ", b.sql);
        b.bind(Bind::Int(page.limit)).push(" OFFSET ").bind(Bind::Int(page.offset));
        let rows = b.query().fetch_all(&self.pool).await?;
        Ok((rows.iter().map(invitation_from_row).collect::<StoreResult<_>>()?, total))
    }

    async fn settle_invitation(
        &self,
        id: &str,
        status: InvitationStatus,
        now: i64,
    ) -> StoreResult<Option<InvitationRecord>> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE organization_invitations SET status = $2, updated_at = $3 WHERE id = $1 AND status = $4",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(now)
        .bind(InvitationStatus::Pending.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 && status == InvitationStatus::Revoked {
            self.emit_invitation(&mut tx, id, |v| Change::InvitationRevoked(v)).await?;
        }
        tx.commit().await?;
        self.get_invitation(id).await
    }

    async fn accept_invitation(
        &self,
        invitation_id: &str,
        m: &MembershipRecord,
        now: i64,
    ) -> StoreResult<InvitationAcceptance> {
        let mut tx = self.pool.begin().await?;
        // The status flip comes first and is conditional: of two redemptions of one ticket only
        // one changes the row, and the other finds it no longer pending.
        let flipped = sqlx::query(
            "UPDATE organization_invitations SET status = $2, updated_at = $3 \
             WHERE id = $1 AND status = $4 AND expires_at > $3",
        )
        .bind(invitation_id)
        .bind(InvitationStatus::Accepted.as_str())
        .bind(now)
        .bind(InvitationStatus::Pending.as_str())
        .execute(&mut *tx)
        .await?;
        if flipped.rows_affected() != 1 {
            return Ok(InvitationAcceptance::NotPending);
        }
        let existing =
            sqlx::query("SELECT id FROM organization_memberships WHERE organization_id = $1 AND user_id = $2")
                .bind(&m.organization_id)
                .bind(&m.user_id)
                .fetch_optional(&mut *tx)
                .await?;
        if existing.is_some() {
            self.emit_invitation(&mut tx, invitation_id, |v| Change::InvitationAccepted(v)).await?;
            tx.commit().await?;
            return Ok(InvitationAcceptance::AlreadyMember);
        }
        let sql = format!(
            "INSERT INTO organization_memberships ({MEMBERSHIP_COLUMNS}) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM organizations o WHERE o.id = $2 \
             AND (o.max_allowed_memberships = 0 OR \
                  (SELECT COUNT(*) FROM organization_memberships c WHERE c.organization_id = $2) < o.max_allowed_memberships)"
        );
        let inserted = bind_membership(&sql, m).execute(&mut *tx).await.map_err(map_write_err)?;
        if inserted.rows_affected() != 1 {
            // Dropping the transaction rolls the status back: the invitation stays usable.
            return Ok(InvitationAcceptance::Full);
        }
        self.emit_invitation(&mut tx, invitation_id, |v| Change::InvitationAccepted(v)).await?;
        self.emit_membership(&mut tx, &m.organization_id, &m.user_id, |v| Change::MembershipCreated(v)).await?;
        tx.commit().await?;
        Ok(InvitationAcceptance::Joined(m.clone()))
    }
}

/// Takes the organization's row lock inside `tx` (a no-op write: PostgreSQL locks the row,
/// SQLite the database), so that changes which count its admins run one after the other. Under
/// READ COMMITTED two removals of two different admins would otherwise each see the other
/// admin still there and both succeed.
async fn lock_organization(tx: &mut sqlx::Transaction<'_, sqlx::Any>, organization_id: &str) -> StoreResult<()> {
    sqlx::query("UPDATE organizations SET updated_at = updated_at WHERE id = $1")
        .bind(organization_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The condition that a change to the membership in `organization_memberships` (unqualified,
/// `$1` the organization) leaves an admin: it is not an admin, `keeps` holds (it stays one), or
/// another admin exists. `admin` is the placeholder of the admin role's key.
fn keeps_an_admin(keeps: &str, admin: &str) -> String {
    format!(
        "(role <> {admin} OR {keeps} OR (SELECT COUNT(*) FROM organization_memberships a \
         WHERE a.organization_id = $1 AND a.role = {admin}) > 1)"
    )
}

/// Builds one kind of event from a view (a `Change` variant).
type ChangeOf<V> = for<'v> fn(&'v V) -> Change<'v>;

impl SqlStore {
    /// Emits `change` for the membership of `user_id` in `organization_id` as `tx` sees it now;
    /// the view is read only when events are rendered at all.
    async fn emit_membership(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        organization_id: &str,
        user_id: &str,
        change: ChangeOf<MembershipView>,
    ) -> StoreResult<()> {
        if self.events.is_none() {
            // Nothing to render; an audited write's entry is still written.
            return self.emit(tx, &[]).await;
        }
        match membership_view(tx, organization_id, user_id).await? {
            Some(view) => self.emit(tx, &[change(&view)]).await,
            None => self.emit(tx, &[]).await,
        }
    }

    /// Emits `change` for the invitation `id` as `tx` sees it now.
    async fn emit_invitation(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: &str,
        change: ChangeOf<InvitationView>,
    ) -> StoreResult<()> {
        if self.events.is_none() {
            // Nothing to render; an audited write's entry is still written.
            return self.emit(tx, &[]).await;
        }
        let row = sqlx::query(&format!("SELECT {INVITATION_COLUMNS} FROM organization_invitations WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(invitation) = row.as_ref().map(invitation_from_row).transpose()? else { return Ok(()) };
        let org = sqlx::query(&format!("SELECT {ORG_COLUMNS} FROM organizations WHERE id = $1"))
            .bind(&invitation.organization_id)
            .fetch_optional(&mut **tx)
            .await?;
        let organization = org.as_ref().map(|r| org_from_row(r, "")).transpose()?;
        let (role_name, _) = role_summary(tx, &invitation.role).await?;
        let view = InvitationView { invitation, organization, role_name };
        self.emit(tx, &[change(&view)]).await
    }

    async fn invitation_where(&self, column: &str, value: &str) -> StoreResult<Option<InvitationRecord>> {
        let row =
            sqlx::query(&format!("SELECT {INVITATION_COLUMNS} FROM organization_invitations WHERE {column} = $1"))
                .bind(value)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(invitation_from_row).transpose()
    }
}

/// A membership with its organization, role and member, read through `conn`.
async fn membership_view(
    conn: &mut sqlx::AnyConnection,
    organization_id: &str,
    user_id: &str,
) -> StoreResult<Option<MembershipView>> {
    let row = sqlx::query(&format!(
        "SELECT {}, {} FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id \
         WHERE m.organization_id = $1 AND m.user_id = $2",
        qualified(MEMBERSHIP_COLUMNS, "m", "m_"),
        qualified(ORG_COLUMNS, "o", "o_"),
    ))
    .bind(organization_id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let membership = membership_from_row(&row, "m_")?;
    let organization = org_from_row(&row, "o_")?;
    let (role_name, permissions) = role_summary(conn, &membership.role).await?;
    let user = super::users::user_in(conn, user_id).await?;
    Ok(Some(MembershipView { membership, organization, role_name, permissions, user }))
}

/// A role's display name (its key if there is no such role) and permission keys.
async fn role_summary(conn: &mut sqlx::AnyConnection, key: &str) -> StoreResult<(String, Vec<String>)> {
    let name = sqlx::query("SELECT name FROM organization_roles WHERE role_key = $1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get::<String, _>("name"))
        .transpose()?
        .unwrap_or_else(|| key.to_owned());
    let permissions = sqlx::query(
        "SELECT p.permission_key FROM organization_permissions p \
         JOIN organization_role_permissions rp ON rp.permission_id = p.id \
         JOIN organization_roles r ON r.id = rp.role_id WHERE r.role_key = $1 ORDER BY p.permission_key",
    )
    .bind(key)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get::<String, _>("permission_key"))
    .collect::<Result<_, _>>()?;
    Ok((name, permissions))
}

fn bind_membership<'q>(
    sql: &'q str,
    m: &'q MembershipRecord,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(sql)
        .bind(&m.id)
        .bind(&m.organization_id)
        .bind(&m.user_id)
        .bind(&m.role)
        .bind(meta(&m.public_metadata))
        .bind(meta(&m.private_metadata))
        .bind(m.created_at)
        .bind(m.updated_at)
}

fn org_from_row(row: &AnyRow, p: &str) -> StoreResult<OrganizationRecord> {
    let c = |name: &str| format!("{p}{name}");
    Ok(OrganizationRecord {
        id: row.try_get(c("id").as_str())?,
        name: row.try_get(c("name").as_str())?,
        slug: row.try_get(c("slug").as_str())?,
        image_url: row.try_get(c("image_url").as_str())?,
        created_by: row.try_get(c("created_by").as_str())?,
        public_metadata: json_object(row, &c("public_metadata"))?,
        private_metadata: json_object(row, &c("private_metadata"))?,
        max_allowed_memberships: row.try_get(c("max_allowed_memberships").as_str())?,
        admin_delete_enabled: read_flag(row, &c("admin_delete_enabled"))?,
        created_at: row.try_get(c("created_at").as_str())?,
        updated_at: row.try_get(c("updated_at").as_str())?,
    })
}

fn membership_from_row(row: &AnyRow, p: &str) -> StoreResult<MembershipRecord> {
    let c = |name: &str| format!("{p}{name}");
    Ok(MembershipRecord {
        id: row.try_get(c("id").as_str())?,
        organization_id: row.try_get(c("organization_id").as_str())?,
        user_id: row.try_get(c("user_id").as_str())?,
        role: row.try_get(c("role").as_str())?,
        public_metadata: json_object(row, &c("public_metadata"))?,
        private_metadata: json_object(row, &c("private_metadata"))?,
        created_at: row.try_get(c("created_at").as_str())?,
        updated_at: row.try_get(c("updated_at").as_str())?,
    })
}

fn invitation_from_row(row: &AnyRow) -> StoreResult<InvitationRecord> {
    Ok(InvitationRecord {
        id: row.try_get("id")?,
        organization_id: row.try_get("organization_id")?,
        email_address: row.try_get("email_address")?,
        role: row.try_get("role")?,
        status: state(row, "status", InvitationStatus::parse)?,
        inviter_user_id: row.try_get("inviter_user_id")?,
        redirect_url: row.try_get("redirect_url")?,
        ticket_digest: row.try_get("ticket_digest")?,
        public_metadata: json_object(row, "public_metadata")?,
        private_metadata: json_object(row, "private_metadata")?,
        expires_at: row.try_get("expires_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
