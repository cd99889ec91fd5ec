// Test tool: signs Telegram sign-in data with implementations independent of EvolveAI's, so the
// C++ auth tests can check that our verifiers accept what others produce.
//
// Usage: node sign.mjs <request.json>
//   {"kind": "init_data", "bot_token": "...", "auth_date": 1700000000, "data": {"user": {...}, "query_id": "..."}}
//     -> prints the init data query string signed by @telegram-apps/init-data-node, after that
//        package's own validate() and @grammyjs/validator's validateWebAppData() accept it.
//   {"kind": "login_widget", "bot_token": "...", "fields": {"id": "42", "first_name": "Ann", "auth_date": "1700000000"}}
//     -> prints the fields plus "hash" as JSON. No published package signs widget data, so the
//        hash is made with node:crypto as Telegram documents it and must pass
//        @grammyjs/validator's checkSignature() before it is printed.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sign, validate } from '@telegram-apps/init-data-node';
import validator from '@grammyjs/validator';

const { checkSignature, validateWebAppData } = validator;

function fail(message) {
  process.stderr.write(`sign.mjs: ${message}\n`);
  process.exit(2);
}

if (process.argv.length !== 3) {
  fail('usage: node sign.mjs <request.json>');
}
const request = JSON.parse(readFileSync(process.argv[2], 'utf8'));

if (request.kind === 'init_data') {
  const signed = sign(request.data, request.bot_token, new Date(request.auth_date * 1000));
  validate(signed, request.bot_token, { expiresIn: 0 });
  if (!validateWebAppData(request.bot_token, new URLSearchParams(signed))) {
    fail('@grammyjs/validator rejects the signed init data');
  }
  process.stdout.write(`${signed}\n`);
} else if (request.kind === 'login_widget') {
  const fields = request.fields;
  const checkString = Object.keys(fields)
    .sort()
    .map((key) => `${key}=${fields[key]}`)
    .join('\n');
  const key = createHash('sha256').update(request.bot_token).digest();
  const hash = createHmac('sha256', key).update(checkString).digest('hex');
  const signed = { ...fields, hash };
  if (!checkSignature(request.bot_token, signed)) {
    fail('@grammyjs/validator rejects the signed widget data');
  }
  process.stdout.write(`${JSON.stringify(signed)}\n`);
} else {
  fail(`unknown kind ${JSON.stringify(request.kind)}`);
}
