import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEPLOY } from "./tools.js";

export const DASHBOARD_FILE = join(DEPLOY, "grafana/dashboards/assay-serve.json");

export interface DashboardTarget {
  readonly refId?: string;
  readonly expr?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
}

export interface DashboardPanel {
  readonly id?: number;
  readonly type?: string;
  readonly title?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly gridPos?: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets?: readonly DashboardTarget[];
  readonly panels?: readonly DashboardPanel[];
}

export interface Dashboard {
  readonly uid?: string;
  readonly title?: string;
  readonly schemaVersion?: number;
  readonly panels?: readonly DashboardPanel[];
  readonly templating?: { readonly list?: readonly { readonly name?: string; readonly type?: string }[] };
  readonly __inputs?: readonly {
    readonly name?: string;
    readonly type?: string;
    readonly pluginId?: string;
  }[];
}

/** deploy/grafana/dashboards/assay-serve.json, parsed. */
export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, "utf8")) as Dashboard;
}

/** Every panel, rows' nested panels included, in file order. */
export function allPanels(d: Dashboard = readDashboard()): DashboardPanel[] {
  return (d.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
}

/**
 * Every PromQL query of the dashboard, verbatim (fixed windows, no Grafana variables), with the
 * title of its panel: what a live test evaluates against a Prometheus that scrapes the service.
 */
export function dashboardQueries(): { panel: string; expr: string }[] {
  return allPanels().flatMap((p) =>
    (p.targets ?? []).flatMap((t) => (t.expr === undefined ? [] : [{ panel: p.title ?? "", expr: t.expr }])),
  );
}
