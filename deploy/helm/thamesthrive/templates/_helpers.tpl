{{/* Names and labels. */}}
{{- define "thamesthrive.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "thamesthrive.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "thamesthrive.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "thamesthrive.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* selector labels of one component: include "thamesthrive.selector" (list . "collector") */}}
{{- define "thamesthrive.selector" -}}
app.kubernetes.io/name: {{ include "thamesthrive.name" (index . 0) }}
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "thamesthrive.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "thamesthrive.fullname" .)) -}}
{{- end -}}

{{- define "thamesthrive.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "thamesthrive.scheme" -}}
{{- if .Values.podTLS.secretName -}}HTTPS{{- else -}}HTTP{{- end -}}
{{- end -}}

{{/* Environment every pod shares: the production backend, its credentials, logging. */}}
{{- define "thamesthrive.env" -}}
{{- $secret := include "thamesthrive.secretName" . -}}
- name: ELASTIC_HOST
  value: {{ required "elasticsearch.hosts is required" .Values.elasticsearch.hosts | quote }}
- name: ELASTIC_INDEX_PREFIX
  value: {{ .Values.elasticsearch.indexPrefix | quote }}
- name: ELASTIC_SHARDS
  value: {{ .Values.elasticsearch.shards | quote }}
- name: ELASTIC_REPLICAS
  value: {{ .Values.elasticsearch.replicas | quote }}
{{- with .Values.elasticsearch.username }}
- name: ELASTIC_HTTP_AUTH_USERNAME
  value: {{ . | quote }}
{{- end }}
- name: ELASTIC_HTTP_AUTH_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: ELASTIC_HTTP_AUTH_PASSWORD, optional: true}
- name: ELASTIC_API_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: ELASTIC_API_KEY, optional: true}
{{- if .Values.elasticsearch.caSecret }}
- name: ELASTIC_CA_FILE
  value: /etc/thamesthrive/elastic-ca/ca.crt
{{- end }}
- name: REDIS_HOST
  value: {{ required "redis.host is required with several replicas" .Values.redis.host | quote }}
- name: REDIS_PORT
  value: {{ .Values.redis.port | quote }}
{{- with .Values.redis.masterName }}
- name: REDIS_MASTER_NAME
  value: {{ . | quote }}
{{- end }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: REDIS_PASSWORD, optional: true}
- name: SECRETS_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: SECRETS_KEY}
- name: LOGGING_LEVEL
  value: {{ .Values.config.logLevel | quote }}
{{- with .Values.config.mergeKeys }}
- name: MERGE_KEYS
  value: {{ . | quote }}
{{- end }}
{{- if .Values.podTLS.secretName }}
- name: TLS_CERT_FILE
  value: /etc/thamesthrive/tls/tls.crt
- name: TLS_KEY_FILE
  value: /etc/thamesthrive/tls/tls.key
{{- end }}
{{- range $k, $v := .Values.config.extraEnv }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- end -}}

{{/* Volumes: writable /tmp and /data on a read-only root, the TLS and CA secrets. */}}
{{- define "thamesthrive.volumes" -}}
- name: tmp
  emptyDir: {sizeLimit: 64Mi}
- name: data
  emptyDir: {sizeLimit: 64Mi}
{{- if .Values.podTLS.secretName }}
- name: tls
  secret: {secretName: {{ .Values.podTLS.secretName }}}
{{- end }}
{{- if .Values.elasticsearch.caSecret }}
- name: elastic-ca
  secret: {secretName: {{ .Values.elasticsearch.caSecret }}}
{{- end }}
{{- end -}}

{{- define "thamesthrive.volumeMounts" -}}
- {name: tmp, mountPath: /tmp}
- {name: data, mountPath: /data}
{{- if .Values.podTLS.secretName }}
- {name: tls, mountPath: /etc/thamesthrive/tls, readOnly: true}
{{- end }}
{{- if .Values.elasticsearch.caSecret }}
- {name: elastic-ca, mountPath: /etc/thamesthrive/elastic-ca, readOnly: true}
{{- end }}
{{- end -}}

{{/* The pod-level fields every ThamesThrive pod shares. */}}
{{- define "thamesthrive.podCommon" -}}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
securityContext: {{- toYaml .Values.podSecurityContext | nindent 2 }}
volumes: {{- include "thamesthrive.volumes" . | nindent 2 }}
{{- end -}}

{{/* Probes of a serving container: readiness /readyz, liveness and start-up /healthz. */}}
{{- define "thamesthrive.probes" -}}
{{- $scheme := include "thamesthrive.scheme" . -}}
startupProbe:
  httpGet: {path: /healthz, port: http, scheme: {{ $scheme }}}
  {{- toYaml .Values.probes.startup | nindent 2 }}
readinessProbe:
  httpGet: {path: /readyz, port: http, scheme: {{ $scheme }}}
  {{- toYaml .Values.probes.readiness | nindent 2 }}
livenessProbe:
  httpGet: {path: /healthz, port: http, scheme: {{ $scheme }}}
  {{- toYaml .Values.probes.liveness | nindent 2 }}
{{- end -}}

{{/* "a,b" or [a, b] -> "a,b" */}}
{{- define "thamesthrive.csv" -}}
{{- if kindIs "slice" . -}}{{- join "," . -}}{{- else -}}{{- . -}}{{- end -}}
{{- end -}}
