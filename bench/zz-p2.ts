import { parsePhone } from '../src/domain/phone.js';
let t = performance.now();
for (let i = 0; i < 20000; i++) parsePhone(`+1646${2000000 + i}`, 'US');
console.log('parsePhone us', (performance.now() - t) / 20000 * 1000, 'µs');
