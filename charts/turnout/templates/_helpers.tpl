{{/* Names and labels shared by every template. */}}

{{- define "turnout.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "turnout.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "turnout.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "turnout.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "turnout.selectorLabels" -}}
app.kubernetes.io/name: {{ include "turnout.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "turnout.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "turnout.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: turnout
{{- end -}}

{{- define "turnout.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{- define "turnout.webhookName" -}}
{{- printf "%s-injector" (include "turnout.fullname" .) -}}
{{- end -}}

{{- define "turnout.tlsSecret" -}}
{{- printf "%s-tls" (include "turnout.fullname" .) -}}
{{- end -}}

{{- define "turnout.meshCaSecret" -}}
{{- printf "%s-mesh-ca" (include "turnout.fullname" .) -}}
{{- end -}}

{{/* The Service sidecars stream from: it selects the pod of the Lease holder (service.yaml). */}}
{{- define "turnout.pushService" -}}
{{- printf "%s-push" (include "turnout.fullname" .) -}}
{{- end -}}

{{/* Names on the serving certificate: both Services in every spelling clients use. */}}
{{- define "turnout.dnsNames" -}}
{{- $ns := .Release.Namespace -}}
{{- $names := list -}}
{{- range $svc := list (include "turnout.fullname" .) (include "turnout.pushService" .) -}}
{{- $names = concat $names (list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns)) -}}
{{- end -}}
{{- concat $names .Values.tls.extraDnsNames | toJson -}}
{{- end -}}

{{- define "turnout.operatorUrl" -}}
{{- default (printf "https://%s.%s.svc:%d" (include "turnout.pushService" .) .Release.Namespace (int .Values.ports.push)) .Values.injection.operatorUrl -}}
{{- end -}}
