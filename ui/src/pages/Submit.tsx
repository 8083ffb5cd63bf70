// /submit[?template=NAME]: pick a WorkflowTemplate, fill its parameters (defaults prefilled),
// submit it and land on the new workflow's page.
import { useEffect, useState } from 'preact/hooks';
import { api, enc } from '../api';
import { navigate } from '../router';

interface TemplateParam {
  name: string;
  value?: string;
  enum?: string[];
  description?: string;
}

function paramsOf(t: any): TemplateParam[] {
  const list = t?.spec?.arguments?.parameters;
  return Array.isArray(list) ? list.filter((p: any) => p && typeof p.name === 'string') : [];
}

export function SubmitPage({ ns, query }: { ns: string; query: URLSearchParams }) {
  const [templates, setTemplates] = useState<any[] | null>(null);
  const [error, setError] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [labels, setLabels] = useState('');
  const [busy, setBusy] = useState(false);
  const chosen = query.get('template') ?? '';

  useEffect(() => {
    api
      .get<{ items: any[] }>(`/api/v1/workflow-templates/${enc(ns)}`)
      .then((r) => setTemplates(r.items ?? []))
      .catch((e: Error) => setError(e.message));
  }, [ns]);

  const template = templates?.find((t) => t?.metadata?.name === chosen);
  useEffect(() => {
    const v: Record<string, string> = {};
    for (const p of paramsOf(template)) v[p.name] = String(p.value ?? p.enum?.[0] ?? '');
    setValues(v);
    setError('');
  }, [template]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const wf = await api.post(`/api/v1/workflows/${enc(ns)}/submit`, {
        resourceKind: 'WorkflowTemplate',
        resourceName: chosen,
        submitOptions: {
          parameters: Object.entries(values).map(([k, v]) => `${k}=${v}`),
          labels: labels.trim(),
        },
      });
      navigate(`/workflows/${enc(ns)}/${enc(wf.metadata.name)}`);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="page narrow">
      <h2>Submit a workflow</h2>
      {templates === null && !error && <p class="muted">Loading templates…</p>}
      {templates?.length === 0 && (
        <p class="muted">
          No WorkflowTemplate in namespace {ns}. Create one with <code>hubspoke template create FILE</code>.
        </p>
      )}
      {templates && templates.length > 0 && (
        <form class="submit-form" onSubmit={submit}>
          <label>
            <span>template</span>
            <select
              name="template"
              value={chosen}
              onChange={(e) =>
                navigate(`/submit?template=${enc((e.target as HTMLSelectElement).value)}`, true)
              }
            >
              <option value="">choose a WorkflowTemplate…</option>
              {templates.map((t) => (
                <option key={t.metadata?.name} value={t.metadata?.name}>
                  {t.metadata?.name}
                </option>
              ))}
            </select>
          </label>
          {chosen && !template && <p class="error">There is no WorkflowTemplate {chosen} in namespace {ns}.</p>}
          {template && (
            <>
              {paramsOf(template).length === 0 && <p class="muted">This template takes no parameters.</p>}
              {paramsOf(template).map((p) => (
                <label key={p.name}>
                  <span>{p.name}</span>
                  {p.enum?.length ? (
                    <select
                      name={`param-${p.name}`}
                      value={values[p.name] ?? ''}
                      onChange={(e) => setValues({ ...values, [p.name]: (e.target as HTMLSelectElement).value })}
                    >
                      {p.enum.map((o) => (
                        <option key={o} value={o}>
                          {o}
                        </option>
                      ))}
                    </select>
                  ) : (
                    <input
                      name={`param-${p.name}`}
                      value={values[p.name] ?? ''}
                      onInput={(e) => setValues({ ...values, [p.name]: (e.target as HTMLInputElement).value })}
                    />
                  )}
                  {p.description && <small class="muted">{p.description}</small>}
                </label>
              ))}
              <label>
                <span>labels</span>
                <input
                  name="labels"
                  value={labels}
                  placeholder="team=infra,run=nightly"
                  onInput={(e) => setLabels((e.target as HTMLInputElement).value)}
                />
              </label>
              <button class="primary" type="submit" disabled={busy}>
                {busy ? 'Submitting…' : 'Submit'}
              </button>
            </>
          )}
        </form>
      )}
      {error && <p class="error">{error}</p>}
    </div>
  );
}
