// A SQL statement as the feature that owns it writes it: the complete text,
// literal (no fragments put together, nothing interpolated), and a mapping
// from named, typed parameters to PostgreSQL's positional ones. Callers say
// `{ taskId, projectId }`, never which `$n` is which; the mapping is the one
// place that knows, next to the text it must agree with.
//
// PostgreSQL infers each parameter's type from where the text uses it, and
// refuses a parameter the text does not use at all, so a mapping yields
// exactly the parameters its text uses: $1 to the highest $n, each one used
// (test/statements.unit.test.ts checks every statement for this).

/** What runs an unnamed statement: TypeORM's DataSource or EntityManager. */
interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

export interface Statement<P, R> {
  /**
   * Unique among statements. Those on hot paths run as named prepared
   * statements under it (named-query.ts), so it must always stand for this
   * one text; the others run unnamed and the name only identifies them.
   */
  readonly name: string;
  readonly text: string;
  /** The positional values, `$1` first, from the named parameters. */
  values(params: P): unknown[];
  /** Type only, never set: the shape of a row the statement returns. */
  readonly row?: R;
}

/** The parameters a runner takes for a statement: none for one that has none. */
export type ParamsOf<P> = [P] extends [void] ? [] : [params: P];

/** The positional values for the statement, from its runner's arguments. */
export function valuesOf<P, R>(statement: Statement<P, R>, params: ParamsOf<P>): unknown[] {
  return statement.values(params[0] as P);
}

/** Runs the statement unnamed (parsed and planned on each call) and gives its rows. */
export async function execute<P, R>(
  on: Queryable,
  statement: Statement<P, R>,
  ...params: ParamsOf<P>
): Promise<R[]> {
  return (await on.query(statement.text, valuesOf(statement, params))) as R[];
}

// Transaction control on a held connection (audited-write.ts inTransaction).
export const BEGIN: Statement<void, never> = { name: 'begin', text: 'BEGIN', values: () => [] };
export const COMMIT: Statement<void, never> = { name: 'commit', text: 'COMMIT', values: () => [] };
export const ROLLBACK: Statement<void, never> = {
  name: 'rollback',
  text: 'ROLLBACK',
  values: () => [],
};

// A migration's session: no statement timeout (a data migration or an index
// on a large table takes longer than any request may), then back to the
// connection's own.
export const NO_STATEMENT_TIMEOUT: Statement<void, never> = {
  name: 'no-statement-timeout',
  text: 'SET statement_timeout = 0',
  values: () => [],
};
export const RESET_STATEMENT_TIMEOUT: Statement<void, never> = {
  name: 'reset-statement-timeout',
  text: 'RESET statement_timeout',
  values: () => [],
};
