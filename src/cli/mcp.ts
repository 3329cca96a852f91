export async function runMcp(_argv: readonly string[]): Promise<number> { throw new Error('not yet'); }
