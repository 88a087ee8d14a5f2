import { connect4 } from './connect4';
import { othello } from './othello';
import { tictactoe } from './tictactoe';
import type { Rules } from './types';

export const RULES: Record<string, Rules> = { tictactoe, connect4, othello };

export * from './types';
