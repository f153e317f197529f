#!/usr/bin/env python3
"""Checks the Kubernetes manifests under deploy/kubernetes against a skald binary.

    check_manifests.py SKALD_BINARY [--root REPO] [--kustomize "kubectl kustomize"]

What it checks (docs/operations/kubernetes.md, "How the manifests are checked"):
  - every YAML file under deploy/kubernetes parses; each kustomization's resources and
    patches exist; every file of the base is listed in the base's kustomization (except
    secret-example.yaml, which must not be);
  - each kustomization is resolved (resources + patches, in Python: a small subset of
    kustomize that covers what these manifests use) and its objects are checked:
      * every container argument that starts with "-" is a flag `skald -help` lists;
      * each leaf key of the ConfigMap's config.yaml is a setting skald implements (its
        flag, from CONFIG_KEY_FLAGS below, is listed by -help), so no key is silently
        accepted and ignored;
      * every ${VAR} config.yaml uses is set in every container, every $(VAR) an argument
        uses is in the container's env, every Secret/ConfigMap key referenced exists;
      * for each workload, `skald <its args, $(VAR) filled in> -verify-config` with the
        config file extracted to a temp file and the container's environment (dummy
        secrets, dummy pod fields, the ConfigMaps' real values) exits 0;
      * Services and PodDisruptionBudgets select some workload's pods, named target ports
        exist, a StatefulSet's serviceName is a headless Service selecting its pods, and
        "<service>.$(POD_NAMESPACE).svc:<port>" in an argument names a Service with that port;
      * conventions: labels, readiness probe on /ready, resource requests, non-root uid.
  - with --kustomize CMD, each kustomization is also rendered by CMD (e.g. "kubectl
    kustomize") and the result must equal the Python resolution.

Exit status 0 when everything holds, 1 otherwise (every failure is printed).
"""

import argparse
import copy
import os
import re
import shlex
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    # A python3 earlier on PATH (pyenv, a venv) may lack PyYAML; Debian's has it once
    # python3-yaml is installed.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
            os.access("/usr/bin/python3", os.X_OK):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("check_manifests: FAIL: PyYAML is missing (Debian: apt-get install python3-yaml; "
          "scripts/install-deps.sh installs it)", file=sys.stderr)
    sys.exit(1)

DEPLOY_DIR = os.path.join("deploy", "kubernetes")
BASE_DIR = os.path.join(DEPLOY_DIR, "base")
# Files of the base that kustomization.yaml must NOT list.
NOT_RESOURCES = {"secret-example.yaml"}
CONFIG_MAP, CONFIG_KEY = "skald-config", "config.yaml"
WORKLOAD_KINDS = ("Deployment", "StatefulSet")
# What the kubelet would put in a fieldRef variable.
FIELD_REF_VALUES = {
    "metadata.name": "skald-check-0",
    "metadata.namespace": "skald-check",
    "status.podIP": "127.0.0.1",
}
VERIFY_TIMEOUT_S = 30

# config.yaml key -> the flag of the same setting. `skald -help` lists flags, not YAML keys;
# a key whose flag it lists is implemented, not merely accepted and ignored. A key used in
# config.yaml but missing here fails the check: add it (src/server/config.cc's SKALD_FIELD
# rows pair each YAML key with its flag).
CONFIG_KEY_FLAGS = {
    "target": "target",
    "auth_enabled": "auth.enabled",
    "server.http_listen_port": "server.http-listen-port",
    "server.grpc_listen_port": "server.grpc-listen-port",
    "server.log_level": "log.level",
    "common.path_prefix": "common.path-prefix",
    "common.storage.s3.endpoint": "common.storage.s3.endpoint",
    "common.storage.s3.region": "common.storage.s3.region",
    "common.storage.s3.bucketnames": "common.storage.s3.buckets",
    "common.storage.s3.access_key_id": "common.storage.s3.access-key-id",
    "common.storage.s3.secret_access_key": "common.storage.s3.secret-access-key",
    "common.storage.s3.s3forcepathstyle": "common.storage.s3.force-path-style",
    "common.storage.s3.insecure": "common.storage.s3.insecure",
    "ingester.lifecycler.ring.kvstore.store": "ring.store",
    "ingester.lifecycler.ring.kvstore.prefix": "ring.prefix",
    "ingester.lifecycler.ring.kvstore.etcd.endpoints": "etcd.endpoints",
    "ingester.lifecycler.ring.heartbeat_timeout": "ring.heartbeat-timeout",
    "ingester.lifecycler.ring.replication_factor": "distributor.replication-factor",
    "ingester.max_chunk_age": "ingester.max-chunk-age",
    "compactor.retention_enabled": "compactor.retention-enabled",
    # Loki's flags for the querier / query-frontend settings.
    "querier.query_ingesters_within": "querier.query-ingesters-within",
    "frontend.max_outstanding_per_tenant": "querier.max-outstanding-requests-per-tenant",
    "frontend_worker.frontend_address": "querier.frontend-address",
    "limits_config.split_queries_by_interval": "querier.split-queries-by-interval",
    "query_range.cache_results": "querier.cache-results",
}

# ${VAR} and ${VAR:-default} in config.yaml (what -config.expand-env fills in).
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}")
# $(VAR) in a container's args (the kubelet fills it from the container's env; $$ escapes).
ARG_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
# <service>.$(POD_NAMESPACE).svc:<port> in an argument.
SVC_REF = re.compile(
    r"([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.\$\(POD_NAMESPACE\)\.svc(\.cluster\.local)?:(\d+)")


class Checker:
    def __init__(self, root, skald):
        self.root = root
        self.skald = skald
        self.failures = []
        self.checks = 0
        self.help_flags = None  # set of flag names, None when -help could not be read
        self.examples = []  # objects of files no kustomization lists (secret-example.yaml)
        self.loaded = {}  # path -> documents

    def ok(self, cond, msg):
        self.checks += 1
        if not cond:
            self.failures.append(msg)
        return cond

    def rel(self, path):
        return os.path.relpath(path, self.root)

    # ---- files and kustomizations -------------------------------------------------------

    def load_file(self, path):
        """The file's documents (a fresh copy each time); a parse error is reported once."""
        path = os.path.abspath(path)
        if path not in self.loaded:
            try:
                with open(path, encoding="utf-8") as f:
                    self.loaded[path] = [d for d in yaml.safe_load_all(f) if d is not None]
            except (OSError, yaml.YAMLError) as e:
                self.ok(False, f"{self.rel(path)}: does not parse: {e}")
                self.loaded[path] = []
        return copy.deepcopy(self.loaded[path])

    def yaml_files(self):
        out = []
        for d, _, files in os.walk(os.path.join(self.root, DEPLOY_DIR)):
            out += [os.path.join(d, f) for f in files if f.endswith((".yaml", ".yml"))]
        return sorted(out)

    def kustomization(self, kdir):
        path = os.path.join(kdir, "kustomization.yaml")
        docs = self.load_file(path)
        if not self.ok(len(docs) == 1 and isinstance(docs[0], dict),
                       f"{self.rel(path)}: expected one mapping"):
            return {}
        return docs[0]

    def check_kustomization_paths(self, kdir):
        k = self.kustomization(kdir)
        where = self.rel(os.path.join(kdir, "kustomization.yaml"))
        for r in k.get("resources") or []:
            p = os.path.join(kdir, r)
            self.ok(os.path.isfile(p) or os.path.isfile(os.path.join(p, "kustomization.yaml")),
                    f"{where}: resource {r} is neither a file nor a directory with a "
                    f"kustomization.yaml")
        for p in k.get("patches") or []:
            if self.ok(isinstance(p, dict) and ("path" in p or "patch" in p),
                       f"{where}: patch {p!r} has neither path nor patch"):
                if "path" in p:
                    self.ok(os.path.isfile(os.path.join(kdir, p["path"])),
                            f"{where}: patch file {p['path']} does not exist")
        for key in ("patchesStrategicMerge", "patchesJson6902", "components", "bases"):
            self.ok(key not in k, f"{where}: {key} is not supported by this checker; use "
                                  f"resources and patches")

    def check_base_lists_its_files(self):
        base = os.path.join(self.root, BASE_DIR)
        listed = set(self.kustomization(base).get("resources") or [])
        for f in sorted(os.listdir(base)):
            if not f.endswith((".yaml", ".yml")) or f == "kustomization.yaml":
                continue
            if f in NOT_RESOURCES:
                self.ok(f not in listed, f"{BASE_DIR}/kustomization.yaml lists {f}, which must "
                                         f"stay out (its placeholders would overwrite real data)")
                self.examples += self.load_file(os.path.join(base, f))
            else:
                self.ok(f in listed, f"{BASE_DIR}/{f} is not listed in the base's "
                                     f"kustomization.yaml resources")

    # ---- resolving a kustomization (the subset of kustomize these files use) ------------

    def resolve(self, kdir):
        k = self.kustomization(kdir)
        objs = []
        for r in k.get("resources") or []:
            p = os.path.join(kdir, r)
            if os.path.isdir(p):
                objs += self.resolve(p)
            elif os.path.isfile(p):
                objs += self.load_file(p)
        where = self.rel(os.path.join(kdir, "kustomization.yaml"))
        for p in k.get("patches") or []:
            if not isinstance(p, dict):
                continue
            if "path" in p:
                if not os.path.isfile(os.path.join(kdir, p["path"])):
                    continue
                docs = self.load_file(os.path.join(kdir, p["path"]))
                label = f"{where}: patch {p['path']}"
            else:
                try:
                    docs = [d for d in yaml.safe_load_all(p["patch"]) if d is not None]
                except yaml.YAMLError as e:
                    self.ok(False, f"{where}: inline patch does not parse: {e}")
                    continue
                label = f"{where}: inline patch"
            target = p.get("target")
            if len(docs) == 1 and isinstance(docs[0], list):  # JSON 6902 operations
                if not self.ok(isinstance(target, dict), f"{label}: a JSON patch needs a target"):
                    continue
                for o in self.select(objs, target, label):
                    for op in docs[0]:
                        err = json_patch(o, op)
                        self.ok(err is None, f"{label}: {op!r} on {target}: {err}")
            else:
                for d in docs:
                    t = target or {"kind": d.get("kind"),
                                   "name": (d.get("metadata") or {}).get("name")}
                    for o in self.select(objs, t, label):
                        err = strategic_merge(o, d, "")
                        self.ok(err is None, f"{label}: {err}")
        if "namespace" in k:
            for o in objs:
                o.setdefault("metadata", {})["namespace"] = k["namespace"]
        return objs

    def select(self, objs, target, label):
        hits = [o for o in objs
                if o.get("kind") == target.get("kind", o.get("kind"))
                and name_of(o) == target.get("name", name_of(o))]
        self.ok(len(hits) > 0, f"{label}: no resource {target.get('kind')}/{target.get('name')} "
                               f"to patch")
        return hits

    def compare_with(self, kdir, cmd, objs):
        label = self.rel(kdir)
        try:
            out = subprocess.run(shlex.split(cmd) + [kdir], capture_output=True, text=True,
                                 timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            self.ok(False, f"{label}: {cmd} failed: {e}")
            return
        if not self.ok(out.returncode == 0, f"{label}: {cmd} exited {out.returncode}: "
                                            f"{out.stderr.strip()}"):
            return
        rendered = {(o.get("kind"), name_of(o)): o
                    for o in yaml.safe_load_all(out.stdout) if o is not None}
        mine = {(o.get("kind"), name_of(o)): o for o in objs}
        self.ok(set(rendered) == set(mine), f"{label}: {cmd} renders {sorted(rendered)}, the "
                                            f"checker resolved {sorted(mine)}")
        for key in set(rendered) & set(mine):
            self.ok(rendered[key] == mine[key], f"{label}: {cmd} renders {key[0]}/{key[1]} "
                                                f"differently from the checker's resolution")

    # ---- the skald binary -----------------------------------------------------------------

    def read_help(self):
        try:
            out = subprocess.run([self.skald, "-help"], capture_output=True, text=True,
                                 timeout=VERIFY_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as e:
            self.ok(False, f"cannot run {self.skald} -help: {e}")
            return
        flags = set(re.findall(r"^  -([A-Za-z0-9][-A-Za-z0-9._]*)", out.stdout, re.M))
        if self.ok(out.returncode == 0 and flags,
                   f"{self.skald} -help exited {out.returncode} listing {len(flags)} flags"):
            self.help_flags = flags
            self.ok("verify-config" in flags,
                    f"{self.skald} -help does not list -verify-config: cannot check that each "
                    f"workload's configuration loads (and will not start a server to find out)")

    def known_flag(self, name):
        return self.help_flags is not None and name in self.help_flags

    # ---- objects ------------------------------------------------------------------------

    def check_objects(self, label, objs):
        keys = [(o.get("kind"), name_of(o)) for o in objs]
        for o, key in zip(objs, keys):
            self.ok(o.get("apiVersion") and key[0] and key[1],
                    f"{label}: an object lacks apiVersion, kind or metadata.name: {key}")
            self.ok(keys.count(key) == 1, f"{label}: {key[0]}/{key[1]} is defined twice")
        configmaps = {name_of(o): o.get("data") or {} for o in objs if o.get("kind") == "ConfigMap"}
        secrets = {name_of(o): set((o.get("stringData") or {}) | (o.get("data") or {}))
                   for o in self.examples + objs if o.get("kind") == "Secret"}
        services = {name_of(o): o for o in objs if o.get("kind") == "Service"}
        workloads = [o for o in objs if o.get("kind") in WORKLOAD_KINDS]
        self.ok(workloads, f"{label}: no Deployment or StatefulSet")

        config = configmaps.get(CONFIG_MAP, {}).get(CONFIG_KEY)
        if self.ok(isinstance(config, str),
                   f"{label}: no ConfigMap {CONFIG_MAP} with a key {CONFIG_KEY}"):
            self.check_config_keys(label, config)

        for w in workloads:
            self.check_workload(label, w, config, configmaps, secrets, services)
        for s in services.values():
            self.check_service(label, s, workloads)
        for p in (o for o in objs if o.get("kind") == "PodDisruptionBudget"):
            sel = ((p.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
            self.ok(sel and any(selects(sel, pod_labels(w)) for w in workloads),
                    f"{label}: PodDisruptionBudget/{name_of(p)} selects no workload's pods")

    def check_config_keys(self, label, config):
        try:
            doc = yaml.safe_load(ENV_REF.sub("x", config))
        except yaml.YAMLError as e:
            self.ok(False, f"{label}: {CONFIG_MAP} {CONFIG_KEY} does not parse: {e}")
            return
        for key in leaf_keys(doc):
            flag = CONFIG_KEY_FLAGS.get(key)
            if not self.ok(flag is not None,
                           f"{label}: config.yaml key {key} is not in CONFIG_KEY_FLAGS of "
                           f"tests/deploy/check_manifests.py; add it with its flag"):
                continue
            if self.help_flags is not None:
                self.ok(self.known_flag(flag),
                        f"{label}: config.yaml key {key}: skald -help does not list its flag "
                        f"-{flag}, so skald does not implement it (at best it is accepted and "
                        f"ignored)")

    def check_workload(self, label, w, config, configmaps, secrets, services):
        wname = f"{label}: {w['kind']}/{name_of(w)}"
        spec = w.get("spec") or {}
        pod = (spec.get("template") or {}).get("spec") or {}
        labels = pod_labels(w)
        self.ok(labels.get("app.kubernetes.io/name") == "skald"
                and labels.get("app.kubernetes.io/component"),
                f"{wname}: pod labels need app.kubernetes.io/name: skald and "
                f"app.kubernetes.io/component")
        sel = (spec.get("selector") or {}).get("matchLabels") or {}
        self.ok(sel and selects(sel, labels), f"{wname}: selector {sel} does not match the pod "
                                              f"labels {labels}")
        volumes = {v.get("name"): v for v in pod.get("volumes") or []}
        claims = {name_of(c) for c in spec.get("volumeClaimTemplates") or []}
        if w["kind"] == "StatefulSet":
            svc = services.get(spec.get("serviceName"))
            self.ok(svc is not None and (svc.get("spec") or {}).get("clusterIP") == "None"
                    and selects((svc.get("spec") or {}).get("selector") or {}, labels),
                    f"{wname}: serviceName {spec.get('serviceName')!r} is not a headless "
                    f"Service selecting its pods")
        pod_sc = pod.get("securityContext") or {}
        for c in pod.get("containers") or []:
            cname = f"{wname} container {c.get('name')}"
            sc = {**pod_sc, **(c.get("securityContext") or {})}
            self.ok(sc.get("runAsNonRoot") is True and isinstance(sc.get("runAsUser"), int)
                    and sc.get("runAsUser") > 0,
                    f"{cname}: needs securityContext runAsNonRoot: true and a fixed runAsUser")
            requests = (c.get("resources") or {}).get("requests") or {}
            self.ok("cpu" in requests and "memory" in requests,
                    f"{cname}: needs resources.requests cpu and memory")
            self.ok(c.get("image") and c.get("imagePullPolicy"),
                    f"{cname}: needs an image and an imagePullPolicy")
            ports = c.get("ports") or []
            port_names = {p.get("name") for p in ports}
            port_numbers = {p.get("containerPort") for p in ports}
            probe = ((c.get("readinessProbe") or {}).get("httpGet")) or {}
            self.ok(probe.get("path") == "/ready"
                    and (probe.get("port") in port_names or probe.get("port") in port_numbers),
                    f"{cname}: needs a readinessProbe httpGet /ready on one of its ports")
            env = self.container_env(cname, c, configmaps, secrets)
            mounts = {m.get("mountPath"): m.get("name") for m in c.get("volumeMounts") or []}
            for m in c.get("volumeMounts") or []:
                self.ok(m.get("name") in volumes or m.get("name") in claims,
                        f"{cname}: volumeMount {m.get('name')} names no volume or claim template")
            for v in volumes.values():
                if "configMap" in v:
                    self.ok(v["configMap"].get("name") in configmaps,
                            f"{wname}: volume {v.get('name')}: no ConfigMap "
                            f"{v['configMap'].get('name')}")
            self.check_args(cname, c.get("args") or [], env, config, mounts, volumes,
                            configmaps, services)

    def container_env(self, cname, c, configmaps, secrets):
        """The container's environment as the kubelet would build it (dummy secrets)."""
        env = {}
        for f in c.get("envFrom") or []:
            ref = (f.get("configMapRef") or {}).get("name")
            if self.ok(ref in configmaps, f"{cname}: envFrom names no ConfigMap {ref!r}"):
                env.update({k: str(v) for k, v in configmaps[ref].items()})
        for e in c.get("env") or []:
            name, vf = e.get("name"), e.get("valueFrom") or {}
            if "value" in e:
                env[name] = str(e["value"])
            elif "fieldRef" in vf:
                path = vf["fieldRef"].get("fieldPath")
                if self.ok(path in FIELD_REF_VALUES, f"{cname}: env {name}: fieldRef {path} "
                                                     f"has no stand-in value in the checker"):
                    env[name] = FIELD_REF_VALUES[path]
            elif "secretKeyRef" in vf:
                ref = vf["secretKeyRef"]
                self.ok(ref.get("key") in secrets.get(ref.get("name"), set()),
                        f"{cname}: env {name}: Secret {ref.get('name')} key {ref.get('key')} is "
                        f"neither deployed nor in an example (secret-example.yaml)")
                env[name] = f"check-{ref.get('key')}"
            elif "configMapKeyRef" in vf:
                ref = vf["configMapKeyRef"]
                data = configmaps.get(ref.get("name"), {})
                if self.ok(ref.get("key") in data, f"{cname}: env {name}: no ConfigMap "
                                                   f"{ref.get('name')} key {ref.get('key')}"):
                    env[name] = str(data[ref["key"]])
            else:
                self.ok(False, f"{cname}: env {name}: unsupported value source {e!r}")
        return env

    def check_args(self, cname, args, env, config, mounts, volumes, configmaps, services):
        flags = {}
        for a in args:
            if not self.ok(isinstance(a, str) and a.startswith("-"),
                           f"{cname}: argument {a!r} is not a -flag"):
                continue
            name, _, value = a.lstrip("-").partition("=")
            flags[name] = value
            if self.help_flags is not None:
                self.ok(self.known_flag(name), f"{cname}: flag -{name} is not accepted by skald "
                                               f"({self.skald} -help does not list it)")
            for m in ARG_REF.finditer(a):
                self.ok(m.group(1) is None or m.group(1) in env,
                        f"{cname}: {a}: $({m.group(1)}) is not in the container's env (the "
                        f"kubelet would pass it on literally)")
            for m in SVC_REF.finditer(a):
                svc = services.get(m.group(1))
                self.ok(svc is not None and int(m.group(4)) in
                        [p.get("port") for p in (svc.get("spec") or {}).get("ports") or []],
                        f"{cname}: {a}: no Service {m.group(1)} with port {m.group(4)}")
        self.ok("target" in flags, f"{cname}: no -target")
        # -config.file must be the skald-config ConfigMap's key, mounted.
        cfg_path = flags.get("config.file", "")
        vol = volumes.get(mounts.get(os.path.dirname(cfg_path)), {})
        self.ok((vol.get("configMap") or {}).get("name") == CONFIG_MAP
                and os.path.basename(cfg_path) == CONFIG_KEY,
                f"{cname}: -config.file={cfg_path} is not {CONFIG_KEY} of the ConfigMap "
                f"{CONFIG_MAP} mounted in the container")
        if config is None:
            return
        expand = flags.get("config.expand-env", "false") in ("", "true", "1", "t", "T", "TRUE",
                                                             "True")
        refs = ENV_REF.findall(config)
        if refs:
            self.ok(expand, f"{cname}: config.yaml uses ${{...}} but -config.expand-env=true is "
                            f"not set")
        for var, default in refs:
            self.ok(default or env.get(var), f"{cname}: config.yaml uses ${{{var}}}, which the "
                                             f"container does not set (it would expand to \"\")")
        if self.known_flag("verify-config"):
            self.verify(cname, args, env, config)

    def verify(self, cname, args, env, config):
        def fill(m):
            return "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0))

        with tempfile.TemporaryDirectory(prefix="skald-manifests-") as tmp:
            path = os.path.join(tmp, CONFIG_KEY)
            with open(path, "w", encoding="utf-8") as f:
                f.write(config)
            cmd = [self.skald, f"-config.file={path}"]
            cmd += [ARG_REF.sub(fill, a) for a in args
                    if not a.lstrip("-").startswith("config.file=")]
            cmd.append("-verify-config")
            run_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
            try:
                out = subprocess.run(cmd, capture_output=True, text=True, env=run_env, cwd=tmp,
                                     timeout=VERIFY_TIMEOUT_S)
            except (OSError, subprocess.TimeoutExpired) as e:
                self.ok(False, f"{cname}: {' '.join(cmd)}: {e}")
                return
        said = (out.stdout + out.stderr).strip()
        self.ok(out.returncode == 0, f"{cname}: -verify-config exited {out.returncode}: {said}\n"
                                     f"    command: {' '.join(cmd)}")
        ignored = [ln for ln in said.splitlines() if "not implemented" in ln]
        self.ok(not ignored, f"{cname}: -verify-config reports settings skald ignores: "
                             + "; ".join(ignored))

    def check_service(self, label, s, workloads):
        sname = f"{label}: Service/{name_of(s)}"
        spec = s.get("spec") or {}
        sel = spec.get("selector") or {}
        matched = [w for w in workloads if sel and selects(sel, pod_labels(w))]
        if not self.ok(matched, f"{sname}: selector {sel} matches no workload's pod labels"):
            return
        for w in matched:
            containers = ((w["spec"].get("template") or {}).get("spec") or {}).get("containers")
            ports = [p for c in containers or [] for p in c.get("ports") or []]
            for p in spec.get("ports") or []:
                target = p.get("targetPort", p.get("port"))
                self.ok(any(target in (cp.get("name"), cp.get("containerPort")) for cp in ports),
                        f"{sname}: port {p.get('name')} targets {target!r}, which "
                        f"{w['kind']}/{name_of(w)} does not declare as a containerPort")

    # ---- all of it ----------------------------------------------------------------------

    def run(self, kustomize_cmd):
        files = self.yaml_files()
        self.ok(files, f"no YAML files under {DEPLOY_DIR}")
        for f in files:
            self.load_file(f)
        self.read_help()
        self.check_base_lists_its_files()
        kdirs = sorted(os.path.dirname(f) for f in files
                       if os.path.basename(f) == "kustomization.yaml")
        for kdir in kdirs:
            self.check_kustomization_paths(kdir)
        for kdir in kdirs:
            objs = self.resolve(kdir)
            self.check_objects(self.rel(kdir), objs)
            if kustomize_cmd:
                self.compare_with(kdir, kustomize_cmd, objs)


# ---- helpers ------------------------------------------------------------------------------

def name_of(o):
    return (o.get("metadata") or {}).get("name") if isinstance(o, dict) else None


def pod_labels(w):
    return (((w.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def leaf_keys(doc, prefix=""):
    """Dotted paths of the scalar and list values of a YAML mapping."""
    if not isinstance(doc, dict):
        return [prefix] if prefix else []
    out = []
    for k, v in doc.items():
        out += leaf_keys(v, f"{prefix}.{k}" if prefix else str(k))
    return out


# Strategic merge: lists of these fields are merged item by item on the key; other lists
# are replaced (as Kubernetes does for args, command, envFrom...).
MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
              "volumeMounts": "mountPath", "volumeClaimTemplates": None}


def strategic_merge(dst, patch, path):
    for k, v in patch.items():
        if isinstance(k, str) and k.startswith("$"):
            return f"{path}/{k}: patch directives are not supported by the checker"
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            err = strategic_merge(dst[k], v, f"{path}/{k}")
            if err:
                return err
        elif isinstance(v, list) and isinstance(dst.get(k), list) and (
                MERGE_KEYS.get(k) or k == "ports"):
            key = MERGE_KEYS.get(k) or ("containerPort" if any(
                "containerPort" in i for i in v) else "port")
            for item in v:
                old = [d for d in dst[k] if isinstance(d, dict) and d.get(key) == item.get(key)]
                if old:
                    err = strategic_merge(old[0], item, f"{path}/{k}[{item.get(key)}]")
                    if err:
                        return err
                else:
                    dst[k].append(copy.deepcopy(item))
        elif v is None:
            dst.pop(k, None)
        else:
            dst[k] = copy.deepcopy(v)
    return None


def json_patch(doc, op):
    """Applies one RFC 6902 add/replace/remove; returns an error or None."""
    if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove"):
        return "only add, replace and remove are supported"
    parts = [p.replace("~1", "/").replace("~0", "~") for p in op.get("path", "").split("/")[1:]]
    if not parts:
        return "empty path"
    node = doc
    for p in parts[:-1]:
        try:
            node = node[int(p)] if isinstance(node, list) else node[p]
        except (KeyError, IndexError, ValueError, TypeError):
            return f"path {op.get('path')} does not exist"
    last = parts[-1]
    if isinstance(node, list):
        if op["op"] == "add" and last == "-":
            node.append(op.get("value"))
            return None
        try:
            i = int(last)
        except ValueError:
            return f"path {op.get('path')}: {last} is not a list index"
        if not 0 <= i < len(node) + (op["op"] == "add"):
            return f"path {op.get('path')} does not exist"
        if op["op"] == "add":
            node.insert(i, op.get("value"))
        elif op["op"] == "replace":
            node[i] = op.get("value")
        else:
            del node[i]
        return None
    if not isinstance(node, dict) or (op["op"] != "add" and last not in node):
        return f"path {op.get('path')} does not exist"
    if op["op"] == "remove":
        del node[last]
    else:
        node[last] = op.get("value")
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("skald", help="path to the skald binary")
    ap.add_argument("--root", default=os.path.normpath(os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")), help="repository root")
    ap.add_argument("--kustomize", metavar="CMD",
                    help='also render each kustomization with CMD (e.g. "kubectl kustomize") '
                         'and compare')
    a = ap.parse_args()
    c = Checker(os.path.abspath(a.root), os.path.abspath(a.skald))
    c.run(a.kustomize)
    for f in c.failures:
        print(f"FAIL: {f}")
    passed = c.checks - len(c.failures)
    print(f"check_manifests: {passed} passed, {len(c.failures)} failed")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
