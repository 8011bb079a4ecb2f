// parse-prometheus-text-format ships no types: its one export, as its README documents it.
declare module "parse-prometheus-text-format" {
  /** Parses Prometheus text into an array of families ({ name, help, type, metrics }). */
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
