import type { Lang } from './languages.js';
import { en, type Messages } from './messages/en.js';
import { ms } from './messages/ms.js';
import { zhCN } from './messages/zh-CN.js';

export * from './languages.js';
export type { Messages };

export const MESSAGES: Readonly<Record<Lang, Messages>> = { en, 'zh-CN': zhCN, ms };

export const messagesFor = (lang: Lang): Messages => MESSAGES[lang];
