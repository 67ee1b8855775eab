/** The whole search as the caller runs it, minus crypto and SQL: look up candidates by index term, then confirm. */
import { candidateTerms, indexTerms } from '../../../../src/domain/search/index-terms.js';
import { matchesText, parseSearchQuery } from '../../../../src/domain/search/query.js';

/** Whether the index offers the message as a candidate for `q`: it holds the term of every query word. */
export function isCandidate(message: string, q: string): boolean {
  const terms = new Set(indexTerms(message));
  return candidateTerms(parseSearchQuery(q)).every((term) => terms.has(term));
}

/** Whether searching `q` finds the message: a candidate by the index, confirmed on its text. */
export function finds(message: string, q: string): boolean {
  return isCandidate(message, q) && matchesText(message, parseSearchQuery(q));
}
