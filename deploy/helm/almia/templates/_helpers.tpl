{{/* The release's base name. */}}
{{- define "almia.fullname" -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "almia.labels" -}}
app.kubernetes.io/name: almia
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: almia-{{ .Chart.Version }}
{{- end -}}

{{/* The image reference. */}}
{{- define "almia.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* Settings of every Almia container: plain values, then references to Secrets. */}}
{{- define "almia.env" -}}
- name: ALMIA_DATA_DIR
  value: /var/lib/almia
- name: ALMIA_PRODUCTION
  value: "true"
{{- range $name, $value := .Values.config }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- range $name, $ref := .Values.secrets.env }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name }}
      key: {{ $ref.key }}
      optional: true
{{- end }}
{{- if .Values.vault.enabled }}
- name: ALMIA_OPS__VAULT__URL
  value: {{ .Values.vault.url | quote }}
- name: ALMIA_OPS__VAULT__KEY_NAME
  value: {{ .Values.vault.keyName | quote }}
- name: ALMIA_OPS__VAULT__TOKEN_FILE
  value: /run/secrets/almia/vault-token
{{- else }}
- name: ALMIA_ENCRYPTION__KEY_FILE
  value: /run/secrets/almia/kek.key
{{- end }}
{{- if .Values.policy }}
- name: ALMIA_POLICY_FILE
  value: /etc/almia/policy.yaml
{{- end }}
{{- end -}}

{{/* Volumes of every Almia pod: data (scratch), temporary files, keys, the policy. */}}
{{- define "almia.volumes" -}}
- name: data
  emptyDir: {}
- name: tmp
  emptyDir: {}
- name: keys
  secret:
    defaultMode: 0400
{{- if .Values.vault.enabled }}
    secretName: {{ .Values.vault.tokenSecret.name }}
    items:
      - key: {{ .Values.vault.tokenSecret.key }}
        path: vault-token
{{- else }}
    secretName: {{ .Values.secrets.kek.name }}
    items:
      - key: {{ .Values.secrets.kek.key }}
        path: kek.key
{{- end }}
{{- if .Values.policy }}
- name: policy
  configMap:
    name: {{ include "almia.fullname" . }}-policy
{{- end }}
{{- end -}}

{{- define "almia.volumeMounts" -}}
- name: data
  mountPath: /var/lib/almia
- name: tmp
  mountPath: /tmp
- name: keys
  mountPath: /run/secrets/almia
  readOnly: true
{{- if .Values.policy }}
- name: policy
  mountPath: /etc/almia
  readOnly: true
{{- end }}
{{- end -}}
