// SPDX-License-Identifier: GPL-2.0-only
/*
 * The compiler's database and its incremental compile.
 *
 * A local endpoint's policy entries depend only on its identity (namespace,
 * namespace labels, pod labels, named ports), so entries are computed once
 * per identity and shared by every endpoint that has it. A compile
 * recomputes the entries of "dirty" identities only: new ones, and those
 * selected by a policy that changed or whose peers matched a different set
 * of identities. Deltas come from comparing old and new outputs, so they
 * are minimal whatever work was done.
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "internal.h"

struct eset {
	struct pw_policy_entry *v;
	size_t n;
};

struct ident {
	uint32_t id;
	char *key;
	bool is_cidr;
	/* label identities */
	char *ns;
	struct pw_labels nsl, pl;
	struct pw_named_port *ports;
	size_t nports;
	/* CIDR identities */
	struct pw_cidr cidr;
	size_t refs;   /* pods (label) or policy prefixes (CIDR) using it */
	size_t nlocal; /* local endpoints with this identity */
	struct eset *es, *old_es;
	bool dirty, dead, recomputed;
	bool patch; /* only identities appeared or disappeared among its peers */
	bool es_changed; /* recomputed entries differ from the previous ones */
};

struct eprec {
	char *id, *ns, *name;
	struct pw_endpoint_view view;
	struct ident *ident;
};

struct podrec {
	struct pw_pod *pod;
	struct ident *ident;  /* NULL for hostNetwork pods */
	uint32_t *cidr_ids;   /* per pod IP */
	struct pw_addr *inst; /* addresses as of the last compile */
	size_t ninst;
	bool local, dirty;
	struct eprec *ep;
	struct pw_pod_view view;
};

/*
 * An address and the pods that claim it (normally one; host-network pods
 * share the node's). The host map holds the winner's entry; keeping the
 * claimants lets a pod change update only that pod's addresses.
 */
struct ipclaim {
	struct pw_host_key key;
	struct podrec **v;
	size_t n, cap;
	bool node; /* one of the node's own addresses */
	bool has_cur, affected;
	uint32_t node_cidr;
	struct pw_ipcache_host_entry cur;
};

struct cookierec {
	uint32_t cookie;
	char *key;
	char *ns, *name;
	uint8_t dir;
	uint32_t rule;
};

struct nslist {
	char *ns;
	struct pw_np **v;
	size_t n, cap;
};

struct ptrvec {
	void **v;
	size_t n, cap;
};

struct pw_policy_db {
	struct pw_hmap pods;	     /* "ns/name" -> podrec */
	struct pw_hmap nss;	     /* name -> pw_ns */
	struct pw_hmap nps;	     /* "ns/name" -> pw_np */
	struct pw_hmap np_by_ns;     /* ns -> nslist */
	struct pw_hmap idents;	     /* key -> ident */
	struct pw_hmap ids;	     /* id (u32) -> ident */
	struct pw_hmap cidrs;	     /* key -> ident, CIDR identities only */
	struct pw_hmap cookies;	     /* key -> cookierec */
	struct cookierec **cookie_v; /* index cookie - 1 */
	size_t ncookies, capcookies;
	struct pw_hmap eps;  /* "ns/name" -> eprec */
	struct pw_hmap host; /* pw_host_key -> ipclaim */
	struct pw_hmap lpm;  /* pw_lpm_key -> pw_ipcache_lpm_entry (in lpm_arr) */
	struct pw_ipcache_lpm_entry *lpm_arr;
	uint8_t lens[2][129]; /* prefix lengths in the LPM map per family, longest first */
	size_t nlens[2];
	uint32_t next_label, next_cidr, epoch;
	char *node;
	struct pw_addr *node_ips;
	uint32_t *node_cidr_ids;
	size_t nnode_ips;
	bool node_dirty, compiled;
	struct ptrvec retired;	     /* replaced or deleted policies, freed at compile */
	struct ptrvec dead_pods;     /* deleted podrecs, freed at compile */
	struct ptrvec added, unrefd; /* identities created / unreferenced during a compile */
	struct nsindex *nsidx;	     /* during step 4 of a compile with new policies */
	/* lazily built views */
	bool views_stale;
	struct pw_endpoint_view *ep_views;
	size_t nep_views;
	struct pw_pod_view *pod_views;
	size_t npod_views;
	struct pw_ipcache_host_entry *host_v;
	size_t nhost_v;
	struct pw_ipcache_lpm_entry *lpm_v;
	size_t nlpm_v;
};

static int vpush(struct ptrvec *p, void *x)
{
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 16;
		void **n = realloc(p->v, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->v = n;
		p->cap = ncap;
	}
	p->v[p->n++] = x;
	return 0;
}

static int vpush_raw(void ***v, size_t *n, size_t *cap, void *x)
{
	struct ptrvec p = { *v, *n, *cap };
	int err = vpush(&p, x);

	*v = p.v;
	*n = p.n;
	*cap = p.cap;
	return err;
}

/* ---------------- lifecycle ---------------- */

int pw_policy_db_new(struct pw_policy_db **out)
{
	struct pw_policy_db *db = calloc(1, sizeof(*db));

	if (!db)
		return -ENOMEM;
	db->next_label = PW_ID_FIRST_LABEL;
	db->next_cidr = PW_ID_FIRST_CIDR;
	db->node = strdup("");
	if (!db->node) {
		free(db);
		return -ENOMEM;
	}
	*out = db;
	return 0;
}

static void eset_free(struct eset *e)
{
	if (!e)
		return;
	free(e->v);
	free(e);
}

static void ident_free(struct ident *i)
{
	if (!i)
		return;
	free(i->key);
	free(i->ns);
	pw_labels_free(&i->nsl);
	pw_labels_free(&i->pl);
	for (size_t k = 0; k < i->nports; k++)
		free(i->ports[k].name);
	free(i->ports);
	eset_free(i->es);
	if (i->old_es != i->es)
		eset_free(i->old_es);
	free(i);
}

static void podrec_free(struct podrec *p)
{
	if (!p)
		return;
	pw_pod_free(p->pod);
	free(p->cidr_ids);
	free(p->inst);
	free(p);
}

static void eprec_free(struct eprec *e)
{
	if (!e)
		return;
	free(e->id);
	free(e->ns);
	free(e->name);
	free(e);
}

static void free_views(struct pw_policy_db *db)
{
	free(db->ep_views);
	free(db->pod_views);
	free(db->host_v);
	free(db->lpm_v);
	db->ep_views = NULL;
	db->pod_views = NULL;
	db->host_v = NULL;
	db->lpm_v = NULL;
	db->views_stale = true;
}

void pw_policy_db_free(struct pw_policy_db **pdb)
{
	struct pw_policy_db *db = *pdb;
	size_t i = 0;
	void *v;

	if (!db)
		return;
	while (pw_hmap_next(&db->pods, &i, &v))
		podrec_free(v);
	i = 0;
	while (pw_hmap_next(&db->nss, &i, &v))
		pw_ns_free(v);
	i = 0;
	while (pw_hmap_next(&db->nps, &i, &v))
		pw_np_free(v);
	i = 0;
	while (pw_hmap_next(&db->np_by_ns, &i, &v)) {
		struct nslist *l = v;

		free(l->ns);
		free(l->v);
		free(l);
	}
	i = 0;
	while (pw_hmap_next(&db->idents, &i, &v))
		ident_free(v);
	for (i = 0; i < db->ncookies; i++) {
		free(db->cookie_v[i]->key);
		free(db->cookie_v[i]->ns);
		free(db->cookie_v[i]->name);
		free(db->cookie_v[i]);
	}
	free(db->cookie_v);
	i = 0;
	while (pw_hmap_next(&db->eps, &i, &v))
		eprec_free(v);
	i = 0;
	while (pw_hmap_next(&db->host, &i, &v)) {
		free(((struct ipclaim *)v)->v);
		free(v);
	}
	free(db->lpm_arr);
	for (i = 0; i < db->retired.n; i++)
		pw_np_free(db->retired.v[i]);
	for (i = 0; i < db->dead_pods.n; i++)
		podrec_free(db->dead_pods.v[i]);
	free(db->retired.v);
	free(db->dead_pods.v);
	free(db->added.v);
	free(db->unrefd.v);
	pw_hmap_clear(&db->pods);
	pw_hmap_clear(&db->nss);
	pw_hmap_clear(&db->nps);
	pw_hmap_clear(&db->np_by_ns);
	pw_hmap_clear(&db->idents);
	pw_hmap_clear(&db->ids);
	pw_hmap_clear(&db->cidrs);
	pw_hmap_clear(&db->cookies);
	pw_hmap_clear(&db->eps);
	pw_hmap_clear(&db->host);
	pw_hmap_clear(&db->lpm);
	free(db->node);
	free(db->node_ips);
	free(db->node_cidr_ids);
	free_views(db);
	free(db);
	*pdb = NULL;
}

void pw_policy_delta_free(struct pw_policy_delta *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n_ep_changed; i++)
		free(d->ep_changed[i]);
	for (i = 0; i < d->n_ep_removed; i++)
		free(d->ep_removed[i]);
	free(d->ep_changed);
	free(d->ep_removed);
	free(d->host_upsert);
	free(d->host_delete);
	free(d->lpm_upsert);
	free(d->lpm_delete);
	memset(d, 0, sizeof(*d));
}

/* ---------------- object updates ---------------- */

static void mark_ns_pods_dirty(struct pw_policy_db *db, const char *ns)
{
	size_t i = 0;
	void *v;

	while (pw_hmap_next(&db->pods, &i, &v)) {
		struct podrec *p = v;

		if (!ns || !strcmp(p->pod->ns, ns))
			p->dirty = true;
	}
}

int pw_policy_db_set_node(struct pw_policy_db *db, const char *node_name, const struct pw_addr *ips,
			  size_t nips)
{
	char *n = strdup(node_name ? node_name : "");
	struct pw_addr *a = calloc(nips + 1, sizeof(*a));
	uint32_t *c = calloc(nips + 1, sizeof(*c));

	if (!n || !a || !c) {
		free(n);
		free(a);
		free(c);
		return -ENOMEM;
	}
	if (nips)
		memcpy(a, ips, nips * sizeof(*a));
	free(db->node);
	free(db->node_ips);
	free(db->node_cidr_ids);
	db->node = n;
	db->node_ips = a;
	db->node_cidr_ids = c;
	db->nnode_ips = nips;
	db->node_dirty = true;
	mark_ns_pods_dirty(db, NULL);
	return 0;
}

int pw_policy_db_upsert_pod(struct pw_policy_db *db, json_t *obj, char *errmsg)
{
	struct pw_pod *pod = NULL;
	struct podrec *p;
	int err;

	err = pw_pod_parse(obj, &pod, errmsg);
	if (err)
		return err;
	p = pw_hmap_gets(&db->pods, pod->id);
	if (p) {
		/* Re-key first: the map still points at the old pod's id string. */
		pw_hmap_put(&db->pods, pod->id, strlen(pod->id), p);
		pw_pod_free(p->pod);
		free(p->cidr_ids);
		p->cidr_ids = NULL;
		p->pod = pod;
	} else {
		p = calloc(1, sizeof(*p));
		if (!p || pw_hmap_put(&db->pods, pod->id, strlen(pod->id), p)) {
			free(p);
			pw_pod_free(pod);
			return -ENOMEM;
		}
		p->pod = pod;
	}
	p->dirty = true;
	db->views_stale = true;
	return 0;
}

int pw_policy_db_delete_pod(struct pw_policy_db *db, const char *ns, const char *name)
{
	_cleanup_free_ char *id = NULL;
	struct podrec *p;

	if (asprintf(&id, "%s/%s", ns, name) < 0)
		return -ENOMEM;
	p = pw_hmap_del(&db->pods, id, strlen(id));
	if (!p)
		return -ENOENT;
	if (vpush(&db->dead_pods, p)) {
		/* Keep it rather than lose track of its identity reference. */
		pw_hmap_put(&db->pods, p->pod->id, strlen(p->pod->id), p);
		return -ENOMEM;
	}
	db->views_stale = true;
	return 0;
}

int pw_policy_db_upsert_namespace(struct pw_policy_db *db, json_t *obj, char *errmsg)
{
	struct pw_ns *ns = NULL, *old;
	int err;

	err = pw_ns_parse(obj, &ns, errmsg);
	if (err)
		return err;
	old = pw_hmap_gets(&db->nss, ns->name);
	if (pw_hmap_put(&db->nss, ns->name, strlen(ns->name), ns)) {
		pw_ns_free(ns);
		return -ENOMEM;
	}
	pw_ns_free(old);
	mark_ns_pods_dirty(db, ns->name);
	return 0;
}

int pw_policy_db_delete_namespace(struct pw_policy_db *db, const char *name)
{
	struct pw_ns *ns = pw_hmap_del(&db->nss, name, strlen(name));

	if (!ns)
		return -ENOENT;
	pw_ns_free(ns);
	mark_ns_pods_dirty(db, name);
	return 0;
}

static struct nslist *nslist_get(struct pw_policy_db *db, const char *ns, bool create)
{
	struct nslist *l = pw_hmap_gets(&db->np_by_ns, ns);

	if (l || !create)
		return l;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->ns = strdup(ns);
	if (!l->ns || pw_hmap_put(&db->np_by_ns, l->ns, strlen(l->ns), l)) {
		free(l->ns);
		free(l);
		return NULL;
	}
	return l;
}

static void nslist_remove(struct nslist *l, struct pw_np *np)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i] == np) {
			memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
			l->n--;
			return;
		}
	}
}

int pw_policy_db_upsert_policy(struct pw_policy_db *db, json_t *obj, char *errmsg)
{
	struct pw_np *np = NULL, *old;
	struct nslist *l;
	int err;

	err = pw_np_parse(obj, &np, errmsg);
	if (err)
		return err;
	l = nslist_get(db, np->ns, true);
	if (!l || vpush_raw((void ***)&l->v, &l->n, &l->cap, np) || vpush(&db->retired, NULL)) {
		if (l)
			nslist_remove(l, np);
		pw_np_free(np);
		return -ENOMEM;
	}
	db->retired.n--; /* reserved a slot so that retiring below cannot fail */
	old = pw_hmap_gets(&db->nps, np->id);
	if (pw_hmap_put(&db->nps, np->id, strlen(np->id), np)) {
		nslist_remove(l, np);
		pw_np_free(np);
		return -ENOMEM;
	}
	if (old) {
		nslist_remove(l, old);
		db->retired.v[db->retired.n++] = old;
	}
	np->fresh = true;
	return 0;
}

int pw_policy_db_delete_policy(struct pw_policy_db *db, const char *ns, const char *name)
{
	_cleanup_free_ char *id = NULL;
	struct pw_np *np;
	struct nslist *l;

	if (asprintf(&id, "%s/%s", ns, name) < 0)
		return -ENOMEM;
	if (vpush(&db->retired, NULL))
		return -ENOMEM;
	db->retired.n--;
	np = pw_hmap_del(&db->nps, id, strlen(id));
	if (!np)
		return -ENOENT;
	l = nslist_get(db, ns, false);
	if (l)
		nslist_remove(l, np);
	db->retired.v[db->retired.n++] = np;
	return 0;
}

int pw_policy_db_upsert(struct pw_policy_db *db, json_t *obj, char *errmsg)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));

	if (!kind) {
		snprintf(errmsg, PW_ERRMSG_MAX, "object without kind");
		return -EINVAL;
	}
	if (!strcmp(kind, "Pod"))
		return pw_policy_db_upsert_pod(db, obj, errmsg);
	if (!strcmp(kind, "Namespace"))
		return pw_policy_db_upsert_namespace(db, obj, errmsg);
	if (!strcmp(kind, "NetworkPolicy"))
		return pw_policy_db_upsert_policy(db, obj, errmsg);
	snprintf(errmsg, PW_ERRMSG_MAX, "unsupported kind \"%s\"", kind);
	return -EOPNOTSUPP;
}

/* ---------------- identities ---------------- */

struct sbuf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void sb_add(struct sbuf *s, const char *str, size_t len)
{
	if (s->oom)
		return;
	if (s->n + len + 1 > s->cap) {
		size_t ncap = (s->n + len + 1) * 2;
		char *np = realloc(s->p, ncap);

		if (!np) {
			s->oom = true;
			return;
		}
		s->p = np;
		s->cap = ncap;
	}
	memcpy(s->p + s->n, str, len);
	s->n += len;
	s->p[s->n] = 0;
}

static void sb_str(struct sbuf *s, const char *str)
{
	sb_add(s, str, strlen(str));
}

static void sb_labels(struct sbuf *s, const struct pw_labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			sb_str(s, ",");
		sb_str(s, l->v[i].key);
		sb_str(s, "=");
		sb_str(s, l->v[i].val);
	}
}

static const struct pw_labels *ns_labels(struct pw_policy_db *db, const char *ns,
					 struct pw_labels *fallback, struct pw_label *one)
{
	struct pw_ns *n = pw_hmap_gets(&db->nss, ns);

	if (n)
		return &n->labels;
	/* A namespace not (yet) known still has its name label. */
	one->key = (char *)"kubernetes.io/metadata.name";
	one->val = (char *)ns;
	fallback->v = one;
	fallback->n = 1;
	return fallback;
}

/* Canonical identity key: readable, since explain and tests print it. */
static char *label_key(const struct pw_pod *pod, const struct pw_labels *nsl)
{
	struct sbuf s = { 0 };
	char num[32];

	sb_str(&s, pod->ns);
	sb_str(&s, " ns{");
	sb_labels(&s, nsl);
	sb_str(&s, "} pod{");
	sb_labels(&s, &pod->labels);
	sb_str(&s, "}");
	if (pod->nports) {
		sb_str(&s, " ports{");
		for (size_t i = 0; i < pod->nports; i++) {
			snprintf(num, sizeof(num), "%s%s:%s/%u", i ? "," : "", pod->ports[i].name,
				 pw_proto_name(pod->ports[i].proto), pod->ports[i].port);
			sb_str(&s, num);
		}
		sb_str(&s, "}");
	}
	if (s.oom) {
		free(s.p);
		return NULL;
	}
	return s.p;
}

static int ident_register(struct pw_policy_db *db, struct ident *i)
{
	if (pw_hmap_put(&db->idents, i->key, strlen(i->key), i))
		return -ENOMEM;
	if (pw_hmap_put(&db->ids, &i->id, sizeof(i->id), i)) {
		pw_hmap_del(&db->idents, i->key, strlen(i->key));
		return -ENOMEM;
	}
	if ((i->is_cidr && pw_hmap_put(&db->cidrs, i->key, strlen(i->key), i)) ||
	    vpush(&db->added, i)) {
		pw_hmap_del(&db->idents, i->key, strlen(i->key));
		pw_hmap_del(&db->ids, &i->id, sizeof(i->id));
		pw_hmap_del(&db->cidrs, i->key, strlen(i->key));
		return -ENOMEM;
	}
	return 0;
}

static struct ident *label_ident_get(struct pw_policy_db *db, const struct pw_pod *pod)
{
	struct pw_labels fb;
	struct pw_label one;
	const struct pw_labels *nsl = ns_labels(db, pod->ns, &fb, &one);
	char *key = label_key(pod, nsl);
	struct ident *i;

	if (!key)
		return NULL;
	i = pw_hmap_gets(&db->idents, key);
	if (i) {
		free(key);
		i->dead = false;
		return i;
	}
	i = calloc(1, sizeof(*i));
	if (!i)
		goto oom;
	i->key = key;
	i->ns = strdup(pod->ns);
	i->ports = calloc(pod->nports + 1, sizeof(*i->ports));
	if (!i->ns || !i->ports || pw_labels_dup(nsl, &i->nsl) ||
	    pw_labels_dup(&pod->labels, &i->pl))
		goto oom;
	for (size_t k = 0; k < pod->nports; k++) {
		i->ports[k] = pod->ports[k];
		i->ports[k].name = strdup(pod->ports[k].name);
		if (!i->ports[k].name)
			goto oom;
		i->nports++;
	}
	i->id = db->next_label++;
	if (ident_register(db, i))
		goto oom;
	return i;
oom:
	if (i)
		ident_free(i);
	else
		free(key);
	return NULL;
}

static struct ident *cidr_ident_get(struct pw_policy_db *db, const struct pw_cidr *c)
{
	char key[64];
	struct ident *i;

	pw_cidr_format(c, key, sizeof(key));
	i = pw_hmap_gets(&db->idents, key);
	if (i) {
		i->dead = false;
		return i;
	}
	i = calloc(1, sizeof(*i));
	if (!i)
		return NULL;
	i->key = strdup(key);
	i->is_cidr = true;
	i->cidr = *c;
	i->id = db->next_cidr++;
	if (!i->key || ident_register(db, i)) {
		ident_free(i);
		return NULL;
	}
	return i;
}

static int ident_unref(struct pw_policy_db *db, struct ident *i)
{
	if (--i->refs == 0) {
		i->dead = true;
		return vpush(&db->unrefd, i);
	}
	return 0;
}

static int np_prefixes(struct pw_policy_db *db, struct pw_np *np, bool ref)
{
	for (int d = 0; d < 2; d++)
		for (size_t r = 0; r < np->nrules[d]; r++)
			for (size_t p = 0; p < np->rules[d][r].npeers; p++) {
				struct pw_peer *pe = &np->rules[d][r].peers[p];

				if (!pe->is_block)
					continue;
				for (size_t x = 0; x <= pe->nexcept; x++) {
					const struct pw_cidr *c =
						x ? &pe->except[x - 1] : &pe->cidr;
					struct ident *i = cidr_ident_get(db, c);

					if (!i)
						return -ENOMEM;
					if (ref)
						i->refs++;
					else if (ident_unref(db, i))
						return -ENOMEM;
				}
			}
	return 0;
}

/* ---------------- cookies ---------------- */

/* Cookies are stable: the same (policy, direction, rule) always gets the same one. */
static uint32_t cookie_get(struct pw_policy_db *db, const struct pw_np *np, int dir, size_t rule)
{
	char key[600];
	struct cookierec *c;

	snprintf(key, sizeof(key), "%s\x1f%d\x1f%zu", np->id, dir, rule);
	c = pw_hmap_gets(&db->cookies, key);
	if (c)
		return c->cookie;
	if (db->ncookies == db->capcookies) {
		size_t ncap = db->capcookies ? db->capcookies * 2 : 64;
		struct cookierec **n = realloc(db->cookie_v, ncap * sizeof(*n));

		if (!n)
			return 0;
		db->cookie_v = n;
		db->capcookies = ncap;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return 0;
	c->key = strdup(key);
	c->ns = strdup(np->ns);
	c->name = strdup(np->name);
	c->dir = (uint8_t)dir;
	c->rule = (uint32_t)rule;
	c->cookie = (uint32_t)db->ncookies + 1;
	if (!c->key || !c->ns || !c->name || pw_hmap_put(&db->cookies, c->key, strlen(c->key), c)) {
		free(c->key);
		free(c->ns);
		free(c->name);
		free(c);
		return 0;
	}
	db->cookie_v[db->ncookies++] = c;
	return c->cookie;
}

int pw_policy_db_cookie(const struct pw_policy_db *db, uint32_t cookie, struct pw_cookie_info *out)
{
	const struct cookierec *c;

	if (cookie == 0 || cookie > db->ncookies)
		return -ENOENT;
	c = db->cookie_v[cookie - 1];
	out->ns = c->ns;
	out->name = c->name;
	out->dir = c->dir;
	out->rule = c->rule;
	return 0;
}

/* ---------------- peer matching ---------------- */

static bool peer_matches(const struct pw_np *np, const struct pw_peer *pe, const struct ident *i)
{
	if (i->dead)
		return false;
	if (pe->is_block) {
		if (!i->is_cidr || !pw_cidr_contains(&pe->cidr, &i->cidr))
			return false;
		for (size_t x = 0; x < pe->nexcept; x++)
			if (pw_cidr_contains(&pe->except[x], &i->cidr))
				return false;
		return true;
	}
	if (i->is_cidr)
		return false;
	if (pe->ns_sel ? !pw_selector_match(pe->ns_sel, &i->nsl) : strcmp(i->ns, np->ns) != 0)
		return false;
	return !pe->pod_sel || pw_selector_match(pe->pod_sel, &i->pl);
}

static bool np_selects(const struct pw_np *np, const struct ident *i)
{
	return !i->is_cidr && !i->dead && !strcmp(i->ns, np->ns) &&
	       pw_selector_match(&np->sel, &i->pl);
}

/*
 * Live label identities grouped by namespace, and within it by namespace
 * labels, built for a compile that has new policies. A new policy's peers
 * and selection are matched against its own namespace's groups (a peer
 * without namespaceSelector, the selection) or against the groups whose
 * labels its namespaceSelector admits, evaluated once per group; otherwise
 * each new policy would test every identity of the cluster (1k policies x
 * 10k pods took seconds). The result is the same set peer_matches() and
 * np_selects() give.
 */
struct nsgroup {
	char *key;		  /* "ns ns{labels}" */
	const struct ident *first; /* whose ns and nsl every member shares */
	struct ptrvec members;
};

struct nsbucket {
	const char *ns;
	struct ptrvec groups;
};

struct nsindex {
	struct pw_hmap groups, buckets; /* key -> nsgroup, ns -> nsbucket */
	struct ptrvec all_groups, all_buckets;
};

static void nsindex_free(struct nsindex **px)
{
	struct nsindex *x = *px;

	if (!x)
		return;
	for (size_t i = 0; i < x->all_groups.n; i++) {
		struct nsgroup *g = x->all_groups.v[i];

		free(g->key);
		free(g->members.v);
		free(g);
	}
	for (size_t i = 0; i < x->all_buckets.n; i++) {
		struct nsbucket *b = x->all_buckets.v[i];

		free(b->groups.v);
		free(b);
	}
	free(x->all_groups.v);
	free(x->all_buckets.v);
	pw_hmap_clear(&x->groups);
	pw_hmap_clear(&x->buckets);
	free(x);
	*px = NULL;
}

static int nsindex_add(struct nsindex *x, struct ident *i)
{
	struct sbuf sb = { 0 };
	struct nsgroup *g;
	struct nsbucket *b;

	sb_str(&sb, i->ns);
	sb_str(&sb, " ns{");
	sb_labels(&sb, &i->nsl);
	sb_str(&sb, "}");
	if (sb.oom)
		return -ENOMEM;
	g = pw_hmap_get(&x->groups, sb.p, sb.n);
	if (g) {
		free(sb.p);
		return vpush(&g->members, i);
	}
	g = calloc(1, sizeof(*g));
	if (!g || vpush(&x->all_groups, g)) {
		free(g);
		free(sb.p);
		return -ENOMEM;
	}
	g->key = sb.p;
	g->first = i;
	if (pw_hmap_put(&x->groups, g->key, sb.n, g) || vpush(&g->members, i))
		return -ENOMEM;
	b = pw_hmap_gets(&x->buckets, i->ns);
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b || vpush(&x->all_buckets, b)) {
			free(b);
			return -ENOMEM;
		}
		b->ns = i->ns;
		if (pw_hmap_put(&x->buckets, b->ns, strlen(b->ns), b))
			return -ENOMEM;
	}
	return vpush(&b->groups, g);
}

static int nsindex_build(struct pw_policy_db *db)
{
	struct nsindex *x = calloc(1, sizeof(*x));
	size_t i = 0;
	void *v;

	if (!x)
		return -ENOMEM;
	db->nsidx = x;
	while (pw_hmap_next(&db->idents, &i, &v)) {
		struct ident *id = v;

		if (id->is_cidr || id->dead)
			continue;
		if (nsindex_add(x, id))
			return -ENOMEM;
	}
	return 0;
}

/* Pushes the members of g that pass the pod selector (sel may be NULL: all). */
static int push_members(const struct nsgroup *g, const struct pw_selector *sel, void ***v,
			size_t *n, size_t *cap)
{
	for (size_t m = 0; m < g->members.n; m++) {
		struct ident *id = g->members.v[m];

		if (id->dead || (sel && !pw_selector_match(sel, &id->pl)))
			continue;
		if (vpush_raw(v, n, cap, id))
			return -ENOMEM;
	}
	return 0;
}

/* match_all() of a label peer through the index. */
static int match_indexed(const struct nsindex *x, struct pw_np *np, struct pw_peer *pe)
{
	if (!pe->ns_sel) {
		const struct nsbucket *b = pw_hmap_gets(&x->buckets, np->ns);

		for (size_t j = 0; b && j < b->groups.n; j++)
			if (push_members(b->groups.v[j], pe->pod_sel, &pe->match, &pe->nmatch,
					 &pe->capmatch))
				return -ENOMEM;
		return 0;
	}
	for (size_t j = 0; j < x->all_groups.n; j++) {
		const struct nsgroup *g = x->all_groups.v[j];

		if (!pw_selector_match(pe->ns_sel, &g->first->nsl))
			continue;
		if (push_members(g, pe->pod_sel, &pe->match, &pe->nmatch, &pe->capmatch))
			return -ENOMEM;
	}
	return 0;
}

#define NSINDEX_MIN_FRESH 4

/* Removes dead identities from a list; returns whether any was removed. */
static bool prune_dead(void **v, size_t *n)
{
	size_t i, j = 0;

	for (i = 0; i < *n; i++)
		if (!((struct ident *)v[i])->dead)
			v[j++] = v[i];
	if (j == *n)
		return false;
	*n = j;
	return true;
}

static int match_all(struct pw_policy_db *db, struct pw_np *np, struct pw_peer *pe)
{
	size_t i = 0;
	void *v;

	pe->nmatch = 0;
	if (!pe->is_block && db->nsidx)
		return match_indexed(db->nsidx, np, pe);
	while (pw_hmap_next(pe->is_block ? &db->cidrs : &db->idents, &i, &v))
		if (peer_matches(np, pe, v) && vpush_raw(&pe->match, &pe->nmatch, &pe->capmatch, v))
			return -ENOMEM;
	return 0;
}

static bool has_any_named_egress(const struct pw_np *np)
{
	for (size_t r = 0; r < np->nrules[PW_DIR_EGRESS]; r++) {
		const struct pw_rule *ru = &np->rules[PW_DIR_EGRESS][r];

		if (ru->npeers)
			continue;
		for (size_t p = 0; p < ru->nports; p++)
			if (ru->ports[p].name)
				return true;
	}
	return false;
}

static void mark_selected_dirty(struct pw_np *np)
{
	for (size_t i = 0; i < np->nselected; i++)
		((struct ident *)np->selected[i])->dirty = true;
}

static void mark_selected_patch(struct pw_np *np)
{
	for (size_t i = 0; i < np->nselected; i++)
		((struct ident *)np->selected[i])->patch = true;
}

/*
 * Brings a policy's peer match lists and selection up to date. Returns
 * TOUCH_FULL if the identities it selects need their entries recomputed,
 * TOUCH_PATCH if only identities appeared or disappeared among its peers
 * (their entries can be patched), 0 if neither.
 */
#define TOUCH_FULL  1
#define TOUCH_PATCH 2
static int np_update(struct pw_policy_db *db, struct pw_np *np, bool labels_changed,
		     bool prefixes_changed)
{
	bool touched = np->fresh, patch = false;
	int err;

	for (int d = 0; d < 2; d++) {
		for (size_t r = 0; r < np->nrules[d]; r++) {
			struct pw_rule *ru = &np->rules[d][r];

			if (np->fresh)
				ru->cookie = cookie_get(db, np, d, r);
			for (size_t p = 0; p < ru->npeers; p++) {
				struct pw_peer *pe = &ru->peers[p];
				size_t before;

				if (np->fresh || (pe->is_block && prefixes_changed)) {
					size_t old_n = pe->nmatch;
					_cleanup_free_ void **old = NULL;

					if (!np->fresh && old_n) {
						old = malloc(old_n * sizeof(*old));
						if (!old)
							return -ENOMEM;
						memcpy(old, pe->match, old_n * sizeof(*old));
					}
					err = match_all(db, np, pe);
					if (err)
						return err;
					/* Only prefixes came or went: a patch will do. */
					if (!np->fresh && (old_n != pe->nmatch ||
							   (old_n && memcmp(old, pe->match,
									    old_n * sizeof(*old)))))
						patch = true;
					continue;
				}
				if (pe->is_block || !labels_changed)
					continue;
				if (prune_dead(pe->match, &pe->nmatch))
					patch = true;
				before = pe->nmatch;
				for (size_t a = 0; a < db->added.n; a++) {
					struct ident *i = db->added.v[a];

					if (!i->is_cidr && peer_matches(np, pe, i) &&
					    vpush_raw(&pe->match, &pe->nmatch, &pe->capmatch, i))
						return -ENOMEM;
				}
				if (pe->nmatch != before)
					patch = true;
			}
		}
	}
	if (labels_changed && !np->fresh && has_any_named_egress(np))
		patch = true;
	/* Selection: new identities are dirty anyway, so only the list needs updating. */
	if (np->fresh) {
		size_t i = 0;
		void *v;

		np->nselected = 0;
		if (db->nsidx) {
			const struct nsbucket *b = pw_hmap_gets(&db->nsidx->buckets, np->ns);

			for (size_t j = 0; b && j < b->groups.n; j++)
				if (push_members(b->groups.v[j], &np->sel, &np->selected,
						 &np->nselected, &np->capselected))
					return -ENOMEM;
		} else {
			while (pw_hmap_next(&db->idents, &i, &v))
				if (np_selects(np, v) && vpush_raw(&np->selected, &np->nselected,
								   &np->capselected, v))
					return -ENOMEM;
		}
	} else if (labels_changed) {
		prune_dead(np->selected, &np->nselected);
		for (size_t a = 0; a < db->added.n; a++)
			if (np_selects(np, db->added.v[a]) &&
			    vpush_raw(&np->selected, &np->nselected, &np->capselected,
				      db->added.v[a]))
				return -ENOMEM;
	}
	return touched ? TOUCH_FULL : patch ? TOUCH_PATCH : 0;
}

/* ---------------- per-identity entries ---------------- */

struct rng {
	uint16_t lo, hi;
	uint32_t cookie;
};

struct acc {
	struct pw_policy_key key;
	struct rng *r;
	size_t n, cap;
};

struct accset {
	struct pw_hmap m;
	struct acc **v;
	size_t n, cap;
	bool oom;
};

static struct acc *acc_get(struct accset *s, uint32_t id, int dir, uint8_t proto)
{
	struct pw_policy_key k = { .identity = id, .dir = (uint8_t)dir, .proto = proto };
	struct acc *a;

	if (s->oom)
		return NULL;
	a = pw_hmap_get(&s->m, &k, sizeof(k));
	if (a)
		return a;
	a = calloc(1, sizeof(*a));
	if (!a || vpush_raw((void ***)&s->v, &s->n, &s->cap, a)) {
		free(a);
		s->oom = true;
		return NULL;
	}
	a->key = k;
	if (pw_hmap_put(&s->m, &a->key, sizeof(a->key), a)) {
		s->oom = true;
		return NULL;
	}
	return a;
}

static void acc_touch(struct accset *s, uint32_t id, int dir)
{
	acc_get(s, id, dir, 0);
}

static void acc_add(struct accset *s, uint32_t id, int dir, uint8_t proto, uint16_t lo, uint16_t hi,
		    uint32_t cookie)
{
	struct acc *a = acc_get(s, id, dir, proto);

	if (!a)
		return;
	if (a->n == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 4;
		struct rng *n = realloc(a->r, ncap * sizeof(*n));

		if (!n) {
			s->oom = true;
			return;
		}
		a->r = n;
		a->cap = ncap;
	}
	a->r[a->n++] = (struct rng){ lo, hi, cookie };
}

static void accset_free(struct accset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i]->r);
		free(s->v[i]);
	}
	free(s->v);
	pw_hmap_clear(&s->m);
}

static int rng_cmp(const void *a, const void *b)
{
	const struct rng *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return x->cookie < y->cookie ? -1 : x->cookie > y->cookie;
}

static int rng_width_cmp(const void *a, const void *b)
{
	const struct rng *x = a, *y = b;
	unsigned int wx = x->hi - x->lo, wy = y->hi - y->lo;

	if (wx != wy)
		return wx > wy ? -1 : 1;
	return rng_cmp(a, b);
}

int pw_policy_key_cmp(const struct pw_policy_key *a, const struct pw_policy_key *b);
int pw_policy_key_cmp(const struct pw_policy_key *a, const struct pw_policy_key *b)
{
	if (a->identity != b->identity)
		return a->identity < b->identity ? -1 : 1;
	if (a->dir != b->dir)
		return a->dir < b->dir ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->dport != b->dport)
		return a->dport < b->dport ? -1 : 1;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	return pw_policy_key_cmp(&((const struct pw_policy_entry *)a)->key,
				 &((const struct pw_policy_entry *)b)->key);
}

static int acc_cmp(const void *a, const void *b)
{
	return pw_policy_key_cmp(&(*(struct acc *const *)a)->key, &(*(struct acc *const *)b)->key);
}

static int out_push(struct pw_policy_entry **v, size_t *n, size_t *cap,
		    const struct pw_policy_key *k, uint8_t flags)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct pw_policy_entry *nv = realloc(*v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	memset(&(*v)[*n], 0, sizeof(**v));
	(*v)[*n].key = *k;
	(*v)[*n].val.flags = flags;
	(*n)++;
	return 0;
}

static void set_range(struct pw_policy_val *val, const struct rng *r)
{
	struct pw_port_range *pr = &val->r[val->nranges++];

	pr->lo = r->lo;
	pr->hi = r->hi;
	pr->action = PW_ACTION_ALLOW;
	pr->cookie = r->cookie;
}

/*
 * One (peer, dir, proto) accumulator into its entries: at most
 * PW_POLICY_RANGES ranges in the base entry; beyond that overlapping and
 * adjacent ranges merge, and what still does not fit spills as single ports.
 */
static int acc_emit(struct acc *a, uint8_t flags, struct pw_policy_entry **v, size_t *n,
		    size_t *cap)
{
	struct rng *r = a->r;
	size_t nr = a->n, i, j, nmulti = 0;
	size_t base;

	if (nr)
		qsort(r, nr, sizeof(*r), rng_cmp);
	for (i = 0, j = 0; i < nr; i++)
		if (!j || r[i].lo != r[j - 1].lo || r[i].hi != r[j - 1].hi)
			r[j++] = r[i];
	nr = j;
	if (nr > PW_POLICY_RANGES) {
		for (i = 1, j = 1; i < nr; i++) {
			if ((uint32_t)r[i].lo <= (uint32_t)r[j - 1].hi + 1) {
				if (r[i].hi > r[j - 1].hi)
					r[j - 1].hi = r[i].hi;
			} else {
				r[j++] = r[i];
			}
		}
		nr = j;
	}
	if (out_push(v, n, cap, &a->key, flags))
		return -ENOMEM;
	base = *n - 1;
	if (nr <= PW_POLICY_RANGES) {
		for (i = 0; i < nr; i++)
			set_range(&(*v)[base].val, &r[i]);
		return 0;
	}
	/* Widest ranges stay in the base entry; the rest become single ports. */
	qsort(r, nr, sizeof(*r), rng_width_cmp);
	for (i = 0; i < nr; i++)
		if (r[i].lo != r[i].hi)
			nmulti++;
	for (i = 0; i < nr && i < PW_POLICY_RANGES; i++)
		set_range(&(*v)[base].val, &r[i]);
	(*v)[base].val.flags |= PW_POLICY_F_SPILL;
	/* Spilled ports in ascending order keep the entries sorted by key. */
	qsort(r + i, nr - i, sizeof(*r), rng_cmp);
	for (; i < nr; i++) {
		for (uint32_t p = r[i].lo; p <= r[i].hi; p++) {
			struct pw_policy_key k = a->key;
			struct rng one = { (uint16_t)p, (uint16_t)p, r[i].cookie };

			k.dport = (uint16_t)p;
			if (out_push(v, n, cap, &k, 0))
				return -ENOMEM;
			set_range(&(*v)[*n - 1].val, &one);
		}
	}
	(void)nmulti;
	return 0;
}

static void resolve_named(struct accset *s, const struct ident *target, uint32_t peer, int dir,
			  const struct pw_np_port *pp, uint32_t cookie)
{
	for (size_t k = 0; k < target->nports; k++) {
		const struct pw_named_port *np = &target->ports[k];

		if (np->proto == pp->proto && !strcmp(np->name, pp->name))
			acc_add(s, peer, dir, pp->proto, np->port, np->port, cookie);
	}
}

static void rule_emit(struct pw_policy_db *db, struct accset *s, const struct ident *self, int dir,
		      const struct pw_rule *ru)
{
	struct ident any = { .id = PW_ID_ANY };
	struct ident *anyp = &any;
	void **peers = (void **)&anyp;
	size_t npeers = 1, i, p;
	_cleanup_free_ void **all = NULL;

	if (ru->npeers) {
		size_t total = 0, k = 0;

		for (p = 0; p < ru->npeers; p++)
			total += ru->peers[p].nmatch;
		all = malloc((total + 1) * sizeof(*all));
		if (!all) {
			s->oom = true;
			return;
		}
		for (p = 0; p < ru->npeers; p++)
			for (i = 0; i < ru->peers[p].nmatch; i++)
				all[k++] = ru->peers[p].match[i];
		peers = all;
		npeers = k;
	}
	if (!ru->nports) {
		for (i = 0; i < npeers; i++)
			acc_add(s, ((struct ident *)peers[i])->id, dir, 0, 0, 65535, ru->cookie);
		return;
	}
	for (p = 0; p < ru->nports; p++) {
		const struct pw_np_port *pp = &ru->ports[p];

		for (i = 0; i < npeers; i++) {
			const struct ident *peer = peers[i];

			if (!pp->name) {
				acc_add(s, peer->id, dir, pp->proto, pp->port, pp->end_port,
					ru->cookie);
			} else if (dir == PW_DIR_INGRESS) {
				/* Ingress: the selected pod's own port. */
				resolve_named(s, self, peer->id, dir, pp, ru->cookie);
			} else if (peer->id == PW_ID_ANY) {
				/* Egress to anyone: every pod identity's own port. */
				size_t it = 0;
				void *v;

				while (pw_hmap_next(&db->idents, &it, &v)) {
					const struct ident *t = v;

					if (!t->is_cidr && !t->dead)
						resolve_named(s, t, t->id, dir, pp, ru->cookie);
				}
			} else if (!peer->is_cidr) {
				/* Egress to a pod: that pod's port (part of its identity). */
				resolve_named(s, peer, peer->id, dir, pp, ru->cookie);
			}
			/* A named port to an ipBlock cannot be resolved: it matches nothing. */
		}
	}
}

static int ident_compute(struct pw_policy_db *db, struct ident *self, struct eset **out)
{
	struct accset s = { 0 };
	bool iso[2] = { false, false };
	struct nslist *l = nslist_get(db, self->ns, false);
	struct eset *es;
	size_t cap = 0;
	int err = 0;

	for (size_t k = 0; l && k < l->n; k++) {
		const struct pw_np *np = l->v[k];

		if (!pw_selector_match(&np->sel, &self->pl))
			continue;
		for (int d = 0; d < 2; d++) {
			if (!np->types[d])
				continue;
			iso[d] = true;
			for (size_t r = 0; r < np->nrules[d]; r++)
				rule_emit(db, &s, self, d, &np->rules[d][r]);
		}
	}
	for (int d = 0; d < 2; d++)
		if (iso[d]) /* the header entry exists even with no rules: default deny */
			acc_touch(&s, PW_ID_ANY, d);
	es = calloc(1, sizeof(*es));
	if (s.oom || !es) {
		err = -ENOMEM;
		goto out;
	}
	/* Sorting the accumulators sorts the output: each emits its keys in order. */
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), acc_cmp);
	for (size_t k = 0; k < s.n; k++) {
		struct acc *a = s.v[k];
		uint8_t flags = 0;

		if (a->key.identity == PW_ID_ANY && a->key.proto == 0 && iso[a->key.dir])
			flags = PW_POLICY_F_ISOLATED;
		err = acc_emit(a, flags, &es->v, &es->n, &cap);
		if (err)
			goto out;
	}
	*out = es;
	es = NULL;
out:
	eset_free(es);
	accset_free(&s);
	return err;
}

/* One rule's entries for one new peer identity a only (see ident_patch()). */
static void rule_emit_one(struct accset *s, const struct pw_np *np, const struct ident *self,
			  int dir, const struct pw_rule *ru, const struct ident *a)
{
	bool match = false;

	if (!ru->npeers) {
		/* Keyed PW_ID_ANY, except egress named ports, which expand per pod identity. */
		for (size_t p = 0; dir == PW_DIR_EGRESS && !a->is_cidr && p < ru->nports; p++)
			if (ru->ports[p].name)
				resolve_named(s, a, a->id, dir, &ru->ports[p], ru->cookie);
		return;
	}
	for (size_t p = 0; p < ru->npeers && !match; p++)
		match = peer_matches(np, &ru->peers[p], a);
	if (!match)
		return;
	if (!ru->nports)
		acc_add(s, a->id, dir, 0, 0, 65535, ru->cookie);
	for (size_t p = 0; p < ru->nports; p++) {
		const struct pw_np_port *pp = &ru->ports[p];

		if (!pp->name)
			acc_add(s, a->id, dir, pp->proto, pp->port, pp->end_port, ru->cookie);
		else if (dir == PW_DIR_INGRESS)
			resolve_named(s, self, a->id, dir, pp, ru->cookie);
		else if (!a->is_cidr) /* as in rule_emit(): no named port to an ipBlock */
			resolve_named(s, a, a->id, dir, pp, ru->cookie);
	}
}

/* Identities that died in this compile, sorted: few, and checked for every entry. */
struct deadset {
	uint32_t *v;
	size_t n;
};

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int deadset_build(const struct pw_policy_db *db, struct deadset *ds)
{
	ds->n = 0;
	ds->v = malloc((db->unrefd.n + 1) * sizeof(*ds->v));
	if (!ds->v)
		return -ENOMEM;
	for (size_t i = 0; i < db->unrefd.n; i++) {
		const struct ident *id = db->unrefd.v[i];

		if (id->dead)
			ds->v[ds->n++] = id->id;
	}
	qsort(ds->v, ds->n, sizeof(*ds->v), u32_cmp);
	return 0;
}

static bool dead_ident(const struct deadset *ds, uint32_t id)
{
	return ds->n && bsearch(&id, ds->v, ds->n, sizeof(*ds->v), u32_cmp);
}

/*
 * Identities (label or CIDR) only appeared or disappeared among an
 * identity's peers. Entries are keyed by peer identity, so no other key can
 * change: drop the keys of the dead ones, compute the keys of the new ones.
 * This keeps a pod label change (a new identity matched by many policies) or
 * a new ipBlock prefix inside other policies' blocks cheap.
 */
static int ident_patch(struct pw_policy_db *db, const struct deadset *ds, struct ident *self,
		       struct eset **out, bool *changed)
{
	struct nslist *l = nslist_get(db, self->ns, false);
	const struct eset *old = self->es;
	struct pw_policy_entry *add = NULL;
	size_t nadd = 0, capadd = 0;
	struct accset s = { 0 };
	struct eset *es;
	int err = 0;

	for (size_t k = 0; l && k < l->n; k++) {
		const struct pw_np *np = l->v[k];

		if (!pw_selector_match(&np->sel, &self->pl))
			continue;
		for (int d = 0; d < 2; d++) {
			if (!np->types[d])
				continue;
			for (size_t r = 0; r < np->nrules[d]; r++)
				for (size_t a = 0; a < db->added.n; a++) {
					const struct ident *ai = db->added.v[a];

					if (!ai->dead)
						rule_emit_one(&s, np, self, d, &np->rules[d][r],
							      ai);
				}
		}
	}
	es = calloc(1, sizeof(*es));
	if (s.oom || !es) {
		err = -ENOMEM;
		goto out;
	}
	/* The new keys, sorted, then one merge with the old ones (already sorted). */
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), acc_cmp);
	for (size_t k = 0; k < s.n; k++) {
		err = acc_emit(s.v[k], 0, &add, &nadd, &capadd);
		if (err)
			goto out;
	}
	*changed = nadd > 0;
	for (size_t i = 0; i < old->n && !*changed; i++)
		*changed = dead_ident(ds, old->v[i].key.identity);
	if (!*changed) {
		/* Nothing to add or drop: keep the entries as they are. */
		*out = self->es;
		goto out;
	}
	es->v = malloc((old->n + nadd + 1) * sizeof(*es->v));
	if (!es->v) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0, j = 0; i < old->n || j < nadd;) {
		if (j < nadd && (i == old->n || entry_cmp(&add[j], &old->v[i]) < 0)) {
			es->v[es->n++] = add[j++];
		} else {
			if (!dead_ident(ds, old->v[i].key.identity))
				es->v[es->n++] = old->v[i];
			i++;
		}
	}
	*out = es;
	es = NULL;
out:
	free(add);
	eset_free(es);
	accset_free(&s);
	return err;
}

/* ---------------- ipcache ---------------- */

static int fam_idx(uint8_t family)
{
	return family == PW_AF_INET6;
}

static void lpm_key_of(const struct pw_addr *a, unsigned int len, struct pw_lpm_key *k)
{
	struct pw_cidr c = { .family = a->family, .len = (uint8_t)len };

	memset(k, 0, sizeof(*k));
	memcpy(c.addr, a->addr, 16);
	/* mask via the CIDR helpers' canonical form */
	for (unsigned int i = 0; i < 16; i++) {
		if (len >= (i + 1) * 8)
			continue;
		c.addr[i] = len <= i * 8 ? 0 : (uint8_t)(c.addr[i] & (0xff << (8 - (len - i * 8))));
	}
	k->prefixlen = PW_LPM_PREFIX_BASE + len;
	k->family = a->family;
	memcpy(k->addr, c.addr, 16);
}

static void lpm_key_of_cidr(const struct pw_cidr *c, struct pw_lpm_key *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = PW_LPM_PREFIX_BASE + c->len;
	k->family = c->family;
	memcpy(k->addr, c->addr, 16);
}

static const struct pw_ipcache_lpm_entry *lpm_find(const struct pw_policy_db *db,
						   const struct pw_addr *a)
{
	int f = fam_idx(a->family);
	struct pw_lpm_key k;

	for (size_t i = 0; i < db->nlens[f]; i++) {
		const struct pw_ipcache_lpm_entry *e;

		lpm_key_of(a, db->lens[f][i], &k);
		e = pw_hmap_get(&db->lpm, &k, sizeof(k));
		if (e)
			return e;
	}
	return NULL;
}

static uint32_t cidr_id_of(const struct pw_policy_db *db, const struct pw_addr *a)
{
	const struct pw_ipcache_lpm_entry *e = lpm_find(db, a);

	return e ? e->val.cidr_identity : 0;
}

struct pw_ipcache_val pw_policy_lookup(const struct pw_policy_db *db, const struct pw_addr *a)
{
	struct pw_host_key hk = { .family = a->family };
	const struct ipclaim *h;
	const struct pw_ipcache_lpm_entry *e;
	struct pw_ipcache_val world = { .identity = PW_ID_WORLD };

	memcpy(hk.addr, a->addr, a->family == PW_AF_INET ? 4 : 16);
	h = pw_hmap_get(&db->host, &hk, sizeof(hk));
	if (h && h->has_cur)
		return h->cur.val;
	e = lpm_find(db, a);
	return e ? e->val : world;
}

static int lpm_rebuild(struct pw_policy_db *db, struct pw_policy_delta *d)
{
	struct pw_hmap nm = { 0 };
	struct pw_ipcache_lpm_entry *arr;
	size_t n = 0, i = 0, cap = d->n_lpm_upsert;
	bool seen[2][129] = { { false } };
	void *v;

	arr = calloc(db->idents.used + 1, sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	while (pw_hmap_next(&db->idents, &i, &v)) {
		struct ident *id = v;

		if (!id->is_cidr || id->dead)
			continue;
		lpm_key_of_cidr(&id->cidr, &arr[n].key);
		arr[n].val.identity = PW_ID_WORLD;
		arr[n].val.cidr_identity = id->id;
		if (pw_hmap_put(&nm, &arr[n].key, sizeof(arr[n].key), &arr[n]))
			goto oom;
		seen[fam_idx(id->cidr.family)][id->cidr.len] = true;
		n++;
	}
	/* Delta against the previous map. */
	for (i = 0; i < n; i++) {
		struct pw_ipcache_lpm_entry *old =
			pw_hmap_get(&db->lpm, &arr[i].key, sizeof(arr[i].key));

		if (old && !memcmp(&old->val, &arr[i].val, sizeof(old->val)))
			continue;
		if (d->n_lpm_upsert == cap) {
			struct pw_ipcache_lpm_entry *nu;

			cap = cap ? cap * 2 : 16;
			nu = realloc(d->lpm_upsert, cap * sizeof(*nu));
			if (!nu)
				goto oom;
			d->lpm_upsert = nu;
		}
		d->lpm_upsert[d->n_lpm_upsert++] = arr[i];
	}
	i = 0;
	cap = 0;
	while (pw_hmap_next(&db->lpm, &i, &v)) {
		struct pw_ipcache_lpm_entry *old = v;

		if (pw_hmap_get(&nm, &old->key, sizeof(old->key)))
			continue;
		if (d->n_lpm_delete == cap) {
			struct pw_lpm_key *nd;

			cap = cap ? cap * 2 : 16;
			nd = realloc(d->lpm_delete, cap * sizeof(*nd));
			if (!nd)
				goto oom;
			d->lpm_delete = nd;
		}
		d->lpm_delete[d->n_lpm_delete++] = old->key;
	}
	pw_hmap_clear(&db->lpm);
	free(db->lpm_arr);
	db->lpm = nm;
	db->lpm_arr = arr;
	for (int f = 0; f < 2; f++) {
		db->nlens[f] = 0;
		for (int len = 128; len >= 0; len--)
			if (seen[f][len])
				db->lens[f][db->nlens[f]++] = (uint8_t)len;
	}
	return 0;
oom:
	pw_hmap_clear(&nm);
	free(arr);
	return -ENOMEM;
}

static void host_key_of(const struct pw_addr *a, struct pw_host_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = a->family;
	memcpy(k->addr, a->addr, a->family == PW_AF_INET ? 4 : 16);
}

static struct ipclaim *claim_get(struct pw_policy_db *db, const struct pw_addr *a, bool create)
{
	struct pw_host_key k;
	struct ipclaim *c;

	host_key_of(a, &k);
	c = pw_hmap_get(&db->host, &k, sizeof(k));
	if (c || !create)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->key = k;
	if (pw_hmap_put(&db->host, &c->key, sizeof(c->key), c)) {
		free(c);
		return NULL;
	}
	return c;
}

static int mark(struct ptrvec *aff, struct ipclaim *c)
{
	if (!c || c->affected)
		return 0;
	c->affected = true;
	return vpush(aff, c);
}

static void claim_del(struct ipclaim *c, const struct podrec *p)
{
	for (size_t i = 0; c && i < c->n; i++) {
		if (c->v[i] == p) {
			c->v[i] = c->v[--c->n];
			return;
		}
	}
}

static uint32_t pod_cidr_of(const struct podrec *p, const struct pw_host_key *k)
{
	for (size_t i = 0; i < p->pod->nips; i++) {
		struct pw_host_key pk;

		host_key_of(&p->pod->ips[i], &pk);
		if (!memcmp(&pk, k, sizeof(pk)))
			return p->cidr_ids ? p->cidr_ids[i] : 0;
	}
	return 0;
}

/* One address, several owners: the node wins, then host-network pods, then the smallest name. */
static bool claim_resolve(struct ipclaim *c, struct pw_ipcache_val *out)
{
	const struct podrec *best = NULL;

	memset(out, 0, sizeof(*out));
	if (c->node) {
		out->identity = PW_ID_HOST;
		out->cidr_identity = c->node_cidr;
		return true;
	}
	for (size_t i = 0; i < c->n; i++) {
		const struct podrec *p = c->v[i];

		if (!best || (p->pod->host_network && !best->pod->host_network) ||
		    (p->pod->host_network == best->pod->host_network &&
		     strcmp(p->pod->id, best->pod->id) < 0))
			best = p;
	}
	if (!best)
		return false;
	out->identity = best->ident ? best->ident->id : PW_ID_HOST;
	out->cidr_identity = pod_cidr_of(best, &c->key);
	return true;
}

static int delta_host(struct pw_policy_delta *d, size_t *capu, size_t *capd,
		      const struct ipclaim *c, bool del)
{
	if (del) {
		if (d->n_host_delete == *capd) {
			struct pw_host_key *n;

			*capd = *capd ? *capd * 2 : 64;
			n = realloc(d->host_delete, *capd * sizeof(*n));
			if (!n)
				return -ENOMEM;
			d->host_delete = n;
		}
		d->host_delete[d->n_host_delete++] = c->key;
		return 0;
	}
	if (d->n_host_upsert == *capu) {
		struct pw_ipcache_host_entry *n;

		*capu = *capu ? *capu * 2 : 64;
		n = realloc(d->host_upsert, *capu * sizeof(*n));
		if (!n)
			return -ENOMEM;
		d->host_upsert = n;
	}
	d->host_upsert[d->n_host_upsert++] = c->cur;
	return 0;
}

/* Whether a prefix that appeared or disappeared in this compile contains a. */
static bool in_changed_prefix(const struct pw_policy_db *db, const struct pw_addr *a)
{
	for (size_t i = 0; i < db->added.n; i++) {
		const struct ident *c = db->added.v[i];

		if (c->is_cidr && pw_cidr_has_addr(&c->cidr, a))
			return true;
	}
	for (size_t i = 0; i < db->unrefd.n; i++) {
		const struct ident *c = db->unrefd.v[i];

		if (c->is_cidr && c->dead && pw_cidr_has_addr(&c->cidr, a))
			return true;
	}
	return false;
}

static bool pod_in_changed_prefix(const struct pw_policy_db *db, const struct podrec *p)
{
	for (size_t k = 0; k < p->pod->nips; k++)
		if (in_changed_prefix(db, &p->pod->ips[k]))
			return true;
	return false;
}

/*
 * Host entries of changed pods only; with full, of every address (the node
 * changed); with prefixes, also of the addresses inside a prefix that
 * appeared or disappeared (only their longest prefix can have changed).
 */
static int host_update(struct pw_policy_db *db, bool full, bool prefixes, struct pw_policy_delta *d)
{
	struct ptrvec aff = { 0 };
	size_t i = 0, capu = 0, capd = 0;
	int err = 0;
	void *v;

	if (prefixes && !full) {
		for (i = 0; i < db->nnode_ips; i++) {
			struct ipclaim *c = claim_get(db, &db->node_ips[i], false);

			if (!c || !in_changed_prefix(db, &db->node_ips[i]))
				continue;
			c->node_cidr = cidr_id_of(db, &db->node_ips[i]);
			err = mark(&aff, c);
			if (err)
				goto out;
		}
	}
	if (full) {
		while (pw_hmap_next(&db->host, &i, &v)) {
			((struct ipclaim *)v)->node = false;
			err = mark(&aff, v);
			if (err)
				goto out;
		}
		for (i = 0; i < db->nnode_ips; i++) {
			struct ipclaim *c = claim_get(db, &db->node_ips[i], true);

			if (!c) {
				err = -ENOMEM;
				goto out;
			}
			c->node = true;
			c->node_cidr = cidr_id_of(db, &db->node_ips[i]);
			err = mark(&aff, c);
			if (err)
				goto out;
		}
	}
	for (i = 0; i < db->dead_pods.n; i++) {
		struct podrec *p = db->dead_pods.v[i];

		for (size_t k = 0; k < p->ninst; k++) {
			struct ipclaim *c = claim_get(db, &p->inst[k], false);

			claim_del(c, p);
			err = mark(&aff, c);
			if (err)
				goto out;
		}
	}
	i = 0;
	while (pw_hmap_next(&db->pods, &i, &v)) {
		struct podrec *p = v;
		struct pw_addr *inst;
		bool refresh = full || (prefixes && pod_in_changed_prefix(db, p));

		if (!p->dirty && !refresh)
			continue;
		free(p->cidr_ids);
		p->cidr_ids = calloc(p->pod->nips + 1, sizeof(*p->cidr_ids));
		if (!p->cidr_ids) {
			err = -ENOMEM;
			goto out;
		}
		for (size_t k = 0; k < p->pod->nips; k++)
			p->cidr_ids[k] = cidr_id_of(db, &p->pod->ips[k]);
		if (!p->dirty) {
			/* Same addresses, maybe another CIDR identity: re-resolve them. */
			for (size_t k = 0; !full && k < p->ninst; k++) {
				err = mark(&aff, claim_get(db, &p->inst[k], false));
				if (err)
					goto out;
			}
			continue;
		}
		for (size_t k = 0; k < p->ninst; k++) {
			struct ipclaim *c = claim_get(db, &p->inst[k], false);

			claim_del(c, p);
			err = mark(&aff, c);
			if (err)
				goto out;
		}
		inst = calloc(p->pod->nips + 1, sizeof(*inst));
		if (!inst) {
			err = -ENOMEM;
			goto out;
		}
		memcpy(inst, p->pod->ips, p->pod->nips * sizeof(*inst));
		free(p->inst);
		p->inst = inst;
		p->ninst = p->pod->nips;
		for (size_t k = 0; k < p->ninst; k++) {
			struct ipclaim *c = claim_get(db, &p->inst[k], true);

			if (!c || vpush_raw((void ***)&c->v, &c->n, &c->cap, p)) {
				err = -ENOMEM;
				goto out;
			}
			err = mark(&aff, c);
			if (err)
				goto out;
		}
	}
	for (i = 0; i < aff.n; i++) {
		struct ipclaim *c = aff.v[i];
		struct pw_ipcache_val val;

		c->affected = false;
		if (!claim_resolve(c, &val)) {
			if (c->has_cur)
				err = err ? err : delta_host(d, &capu, &capd, c, true);
			pw_hmap_del(&db->host, &c->key, sizeof(c->key));
			free(c->v);
			free(c);
			continue;
		}
		if (c->has_cur && !memcmp(&c->cur.val, &val, sizeof(val)))
			continue;
		c->cur.key = c->key;
		c->cur.val = val;
		c->has_cur = true;
		if (!err)
			err = delta_host(d, &capu, &capd, c, false);
	}
out:
	for (; i < aff.n; i++)
		((struct ipclaim *)aff.v[i])->affected = false;
	free(aff.v);
	return err;
}

/* ---------------- compile ---------------- */

static bool pod_is_local(const struct pw_policy_db *db, const struct pw_pod *pod)
{
	return !pod->host_network && (!*db->node || !*pod->node || !strcmp(db->node, pod->node));
}

static bool eset_eq(const struct pw_policy_entry *a, size_t na, const struct pw_policy_entry *b,
		    size_t nb)
{
	return na == nb && (!na || !memcmp(a, b, na * sizeof(*a)));
}

static int push_name(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int ep_update(struct pw_policy_db *db, struct podrec *p, struct pw_policy_delta *d)
{
	struct eprec *ep = p->ep;
	struct eset *es = p->ident->es;
	bool changed;

	if (!ep) {
		ep = calloc(1, sizeof(*ep));
		if (!ep)
			return -ENOMEM;
		ep->id = strdup(p->pod->id);
		ep->ns = strdup(p->pod->ns);
		ep->name = strdup(p->pod->name);
		if (!ep->id || !ep->ns || !ep->name ||
		    pw_hmap_put(&db->eps, ep->id, strlen(ep->id), ep)) {
			eprec_free(ep);
			return -ENOMEM;
		}
		p->ep = ep;
		changed = true;
	} else if (ep->ident == p->ident && p->ident->recomputed &&
		   ep->view.identity == p->ident->id) {
		changed = p->ident->es_changed;
	} else if (p->dirty || ep->ident != p->ident || p->ident->recomputed) {
		changed = ep->view.identity != p->ident->id ||
			  !eset_eq(ep->view.entries, ep->view.nentries, es->v, es->n);
	} else {
		d->n_ep_unchanged++;
		return 0;
	}
	d->n_ep_recomputed++;
	ep->ident = p->ident;
	ep->view.ns = ep->ns;
	ep->view.name = ep->name;
	ep->view.identity = p->ident->id;
	ep->view.entries = es->v;
	ep->view.nentries = es->n;
	if (!changed) {
		d->n_ep_unchanged++;
		return 0;
	}
	return push_name(&d->ep_changed, &d->n_ep_changed, ep->id);
}

static int ep_remove(struct pw_policy_db *db, struct podrec *p, struct pw_policy_delta *d)
{
	struct eprec *ep = p->ep;
	int err;

	if (!ep)
		return 0;
	pw_hmap_del(&db->eps, ep->id, strlen(ep->id));
	err = push_name(&d->ep_removed, &d->n_ep_removed, ep->id);
	eprec_free(ep);
	p->ep = NULL;
	return err;
}

int pw_policy_db_compile(struct pw_policy_db *db, struct pw_policy_delta *delta)
{
	struct pw_policy_delta d = { 0 };
	struct deadset ds = { 0 };
	bool labels_changed = false, prefixes_changed = false, pods_changed = false;
	size_t i, nfresh = 0;
	void *v;
	int err = 0;

	db->added.n = 0;
	db->unrefd.n = 0;
	/* 1. ipBlock prefixes: unreference the retired policies', reference the new ones'. */
	for (i = 0; i < db->retired.n; i++) {
		/* A version replaced before it was ever compiled never took references. */
		if (((struct pw_np *)db->retired.v[i])->fresh)
			continue;
		err = np_prefixes(db, db->retired.v[i], false);
		if (err)
			goto out;
	}
	i = 0;
	while (pw_hmap_next(&db->nps, &i, &v)) {
		if (((struct pw_np *)v)->fresh) {
			err = np_prefixes(db, v, true);
			if (err)
				goto out;
		}
	}
	/* 2. Pods: identities and locality. */
	for (i = 0; i < db->dead_pods.n; i++) {
		struct podrec *p = db->dead_pods.v[i];

		if (p->ident) {
			if (p->local)
				p->ident->nlocal--;
			err = ident_unref(db, p->ident);
			if (err)
				goto out;
		}
		pods_changed = true;
	}
	i = 0;
	while (pw_hmap_next(&db->pods, &i, &v)) {
		struct podrec *p = v;
		struct ident *ni = NULL;

		if (!p->dirty)
			continue;
		pods_changed = true;
		if (!p->pod->host_network) {
			ni = label_ident_get(db, p->pod);
			if (!ni) {
				err = -ENOMEM;
				goto out;
			}
			ni->refs++;
		}
		if (p->ident) {
			if (p->local)
				p->ident->nlocal--;
			err = ident_unref(db, p->ident);
			if (err)
				goto out;
		}
		p->ident = ni;
		p->local = pod_is_local(db, p->pod);
		if (p->local)
			ni->nlocal++;
	}
	for (i = 0; i < db->added.n; i++) {
		struct ident *id = db->added.v[i];

		if (id->is_cidr)
			prefixes_changed = true;
		else
			labels_changed = true;
	}
	for (i = 0; i < db->unrefd.n; i++) {
		struct ident *id = db->unrefd.v[i];

		if (!id->dead)
			continue;
		if (id->is_cidr)
			prefixes_changed = true;
		else
			labels_changed = true;
	}
	/* 3. The LPM map first: pod entries take their CIDR identity from it. */
	if (prefixes_changed || !db->compiled) {
		err = lpm_rebuild(db, &d);
		if (err)
			goto out;
	}
	/* 4. Policies: peer matches and selections; dirty the identities they affect. */
	/*
	 * Building the index costs about what matching one policy against every
	 * identity does: worth it for a batch of new policies (a first compile, a
	 * relist), not for the one policy a watch event changed.
	 */
	i = 0;
	while (nfresh < NSINDEX_MIN_FRESH && pw_hmap_next(&db->nps, &i, &v))
		nfresh += ((struct pw_np *)v)->fresh;
	if (nfresh >= NSINDEX_MIN_FRESH) {
		err = nsindex_build(db);
		if (err) {
			nsindex_free(&db->nsidx);
			goto out;
		}
	}
	i = 0;
	while (pw_hmap_next(&db->nps, &i, &v)) {
		int t = np_update(db, v, labels_changed, prefixes_changed);

		if (t < 0) {
			err = t;
			nsindex_free(&db->nsidx);
			goto out;
		}
		if (t == TOUCH_FULL)
			mark_selected_dirty(v);
		else if (t == TOUCH_PATCH)
			mark_selected_patch(v);
	}
	nsindex_free(&db->nsidx);
	for (i = 0; i < db->retired.n; i++)
		if (!((struct pw_np *)db->retired.v[i])->fresh)
			mark_selected_dirty(db->retired.v[i]);
	/* 5. Entries of the dirty identities that have local endpoints. */
	err = deadset_build(db, &ds);
	if (err)
		goto out;
	i = 0;
	while (pw_hmap_next(&db->idents, &i, &v)) {
		struct ident *id = v;

		id->old_es = id->es;
		if (id->is_cidr)
			continue;
		if (id->dead || !id->nlocal) {
			id->es = NULL;
			continue;
		}
		if (!id->dirty && id->es && !id->patch)
			continue;
		if (id->dirty || !id->es) {
			err = ident_compute(db, id, &id->es);
			/* Once per identity, not per endpoint: many endpoints share one. */
			if (!err)
				id->es_changed = !id->old_es ||
						 !eset_eq(id->old_es->v, id->old_es->n, id->es->v,
							  id->es->n);
		} else {
			err = ident_patch(db, &ds, id, &id->es, &id->es_changed);
		}
		if (err) {
			id->es = id->old_es;
			goto out;
		}
		id->recomputed = true;
	}
	/*
	 * 6. Endpoints. Deleted pods first: one deleted and re-created under the
	 * same name since the last compile hands its record on, so that the delta
	 * says "changed" (or nothing) rather than "removed" and "added".
	 */
	for (i = 0; i < db->dead_pods.n; i++) {
		struct podrec *dead = db->dead_pods.v[i], *live;

		if (!dead->ep)
			continue;
		live = pw_hmap_gets(&db->pods, dead->ep->id);
		if (live && !live->ep && live->local) {
			live->ep = dead->ep;
			dead->ep = NULL;
			continue;
		}
		err = ep_remove(db, dead, &d);
		if (err)
			goto out;
	}
	i = 0;
	while (pw_hmap_next(&db->pods, &i, &v)) {
		struct podrec *p = v;

		err = p->local ? ep_update(db, p, &d) : ep_remove(db, p, &d);
		if (err)
			goto out;
	}
	/* 7. Host entries. */
	if (pods_changed || prefixes_changed || db->node_dirty || !db->compiled) {
		err = host_update(db, db->node_dirty || !db->compiled, prefixes_changed, &d);
		if (err)
			goto out;
	}
out:
	free(ds.v);
	/* Cleanup runs on errors too: nothing may point at freed identities afterwards. */
	i = 0;
	while (pw_hmap_next(&db->idents, &i, &v)) {
		struct ident *id = v;

		if (id->old_es != id->es)
			eset_free(id->old_es);
		id->old_es = NULL;
		id->dirty = false;
		id->patch = false;
		id->es_changed = false;
		id->recomputed = false;
	}
	if (!err) {
		for (i = 0; i < db->unrefd.n; i++) {
			struct ident *id = db->unrefd.v[i];

			if (!id->dead)
				continue;
			pw_hmap_del(&db->idents, id->key, strlen(id->key));
			pw_hmap_del(&db->ids, &id->id, sizeof(id->id));
			if (id->is_cidr)
				pw_hmap_del(&db->cidrs, id->key, strlen(id->key));
			ident_free(id);
		}
		db->unrefd.n = 0;
		for (i = 0; i < db->retired.n; i++)
			pw_np_free(db->retired.v[i]);
		db->retired.n = 0;
		for (i = 0; i < db->dead_pods.n; i++)
			podrec_free(db->dead_pods.v[i]);
		db->dead_pods.n = 0;
		i = 0;
		while (pw_hmap_next(&db->pods, &i, &v))
			((struct podrec *)v)->dirty = false;
		i = 0;
		while (pw_hmap_next(&db->nps, &i, &v))
			((struct pw_np *)v)->fresh = false;
		db->node_dirty = false;
		db->compiled = true;
		d.changed = d.n_ep_changed || d.n_ep_removed || d.n_host_upsert ||
			    d.n_host_delete || d.n_lpm_upsert || d.n_lpm_delete;
		if (d.changed)
			db->epoch++;
		d.epoch = db->epoch;
		free_views(db);
	}
	if (delta && !err)
		*delta = d;
	else
		pw_policy_delta_free(&d);
	return err;
}

/* ---------------- accessors ---------------- */

static int epv_cmp(const void *a, const void *b)
{
	const struct pw_endpoint_view *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

static int podv_cmp(const void *a, const void *b)
{
	const struct pw_pod_view *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

static int hostv_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct pw_ipcache_host_entry *)a)->key,
		      &((const struct pw_ipcache_host_entry *)b)->key, sizeof(struct pw_host_key));
}

static int lpmv_cmp(const void *a, const void *b)
{
	const struct pw_ipcache_lpm_entry *x = a, *y = b;
	int c = memcmp(&x->key.family, &y->key.family, 20);

	return c ? c :
		   (x->key.prefixlen > y->key.prefixlen) - (x->key.prefixlen < y->key.prefixlen);
}

/* Views are built on first use after a change; the db is logically const. */
static void build_views(const struct pw_policy_db *cdb)
{
	struct pw_policy_db *db = (struct pw_policy_db *)cdb;
	size_t i = 0, n = 0;
	void *v;

	if (!db->views_stale && db->ep_views)
		return;
	free(db->ep_views);
	free(db->pod_views);
	free(db->host_v);
	free(db->lpm_v);
	db->ep_views = calloc(db->eps.used + 1, sizeof(*db->ep_views));
	db->pod_views = calloc(db->pods.used + 1, sizeof(*db->pod_views));
	db->host_v = calloc(db->host.used + 1, sizeof(*db->host_v));
	db->lpm_v = calloc(db->lpm.used + 1, sizeof(*db->lpm_v));
	db->nep_views = db->npod_views = db->nhost_v = db->nlpm_v = 0;
	if (!db->ep_views || !db->pod_views || !db->host_v || !db->lpm_v)
		return;
	while (pw_hmap_next(&db->eps, &i, &v))
		db->ep_views[n++] = ((struct eprec *)v)->view;
	db->nep_views = n;
	qsort(db->ep_views, n, sizeof(*db->ep_views), epv_cmp);
	i = n = 0;
	while (pw_hmap_next(&db->pods, &i, &v)) {
		struct podrec *p = v;

		p->view.ns = p->pod->ns;
		p->view.name = p->pod->name;
		p->view.host_network = p->pod->host_network;
		p->view.local = p->local && p->ep;
		p->view.ips = p->pod->ips;
		p->view.nips = p->pod->nips;
		db->pod_views[n++] = p->view;
	}
	db->npod_views = n;
	qsort(db->pod_views, n, sizeof(*db->pod_views), podv_cmp);
	i = n = 0;
	while (pw_hmap_next(&db->host, &i, &v))
		if (((struct ipclaim *)v)->has_cur)
			db->host_v[n++] = ((struct ipclaim *)v)->cur;
	db->nhost_v = n;
	qsort(db->host_v, n, sizeof(*db->host_v), hostv_cmp);
	i = n = 0;
	while (pw_hmap_next(&db->lpm, &i, &v))
		db->lpm_v[n++] = *(struct pw_ipcache_lpm_entry *)v;
	db->nlpm_v = n;
	qsort(db->lpm_v, n, sizeof(*db->lpm_v), lpmv_cmp);
	db->views_stale = false;
}

uint32_t pw_policy_db_epoch(const struct pw_policy_db *db)
{
	return db->epoch;
}

size_t pw_policy_db_endpoints(const struct pw_policy_db *db, struct pw_endpoint_view **out)
{
	build_views(db);
	*out = db->ep_views;
	return db->nep_views;
}

const struct pw_endpoint_view *pw_policy_db_endpoint(const struct pw_policy_db *db, const char *ns,
						     const char *name)
{
	char id[600];
	const struct eprec *ep;

	snprintf(id, sizeof(id), "%s/%s", ns, name);
	ep = pw_hmap_gets(&db->eps, id);
	return ep ? &ep->view : NULL;
}

size_t pw_policy_db_host_entries(const struct pw_policy_db *db, struct pw_ipcache_host_entry **out)
{
	build_views(db);
	*out = db->host_v;
	return db->nhost_v;
}

bool pw_policy_db_host_get(const struct pw_policy_db *db, const struct pw_host_key *k,
			   struct pw_ipcache_val *out)
{
	const struct ipclaim *c = pw_hmap_get(&db->host, k, sizeof(*k));

	if (!c || !c->has_cur)
		return false;
	*out = c->cur.val;
	return true;
}

size_t pw_policy_db_lpm_entries(const struct pw_policy_db *db, struct pw_ipcache_lpm_entry **out)
{
	build_views(db);
	*out = db->lpm_v;
	return db->nlpm_v;
}

const char *pw_policy_db_identity_key(const struct pw_policy_db *db, uint32_t id)
{
	const struct ident *i;

	switch (id) {
	case PW_ID_ANY:
		return "any";
	case PW_ID_HOST:
		return "host";
	case PW_ID_WORLD:
		return "world";
	case PW_ID_REMOTE_NODE:
		return "remote-node";
	}
	i = pw_hmap_get(&db->ids, &id, sizeof(id));
	return i ? i->key : NULL;
}

size_t pw_policy_db_identity_count(const struct pw_policy_db *db)
{
	return db->idents.used;
}

size_t pw_policy_db_pods(const struct pw_policy_db *db, struct pw_pod_view **out)
{
	build_views(db);
	*out = db->pod_views;
	return db->npod_views;
}

const struct pw_pod_view *pw_policy_db_pod(const struct pw_policy_db *db, const char *ns,
					   const char *name)
{
	char id[600];
	struct podrec *p;

	snprintf(id, sizeof(id), "%s/%s", ns, name);
	p = pw_hmap_gets(&db->pods, id);
	if (!p)
		return NULL;
	p->view.ns = p->pod->ns;
	p->view.name = p->pod->name;
	p->view.host_network = p->pod->host_network;
	p->view.local = p->local && p->ep;
	p->view.ips = p->pod->ips;
	p->view.nips = p->pod->nips;
	return &p->view;
}

int pw_policy_db_selecting(const struct pw_policy_db *db, const char *ns, const char *name, int dir,
			   char *buf, size_t len)
{
	char id[600];
	struct podrec *p;
	struct nslist *l;
	size_t off = 0;

	snprintf(id, sizeof(id), "%s/%s", ns, name);
	p = pw_hmap_gets(&db->pods, id);
	if (len)
		buf[0] = 0;
	if (!p)
		return -ENOENT;
	l = pw_hmap_gets(&db->np_by_ns, ns);
	for (size_t k = 0; l && k < l->n; k++) {
		const struct pw_np *np = l->v[k];

		if (!np->types[dir] || !pw_selector_match(&np->sel, &p->pod->labels))
			continue;
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
						np->id);
	}
	return 0;
}
