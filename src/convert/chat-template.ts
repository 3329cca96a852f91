// tokenizer.chat_template for the text GGUF: a Jinja template that renders moondream1's prompt
// (profile.ts) from chat messages, so llama.cpp's llama-server and llama-mtmd-cli run our pair
// without --chat-template. llama.cpp puts a media marker where each image was: "<__media__>" in
// llama-mtmd-cli, "<__media_<random>__>" in llama-server, joined to the message's text without
// a separator. The template finds the marker, moves it inside <image>...</image> at the start, as
// moondream1 places its image rows, and turns the turns into its Question/Answer history.
// BOS is written by the template because the file sets tokenizer.ggml.add_bos_token = false.
export const MOONDREAM1_CHAT_TEMPLATE = [
  "{%- set ns = namespace(marker='') -%}",
  '{%- for message in messages -%}',
  "{%- if ns.marker == '' and message['content'] is string and '<__media' in message['content'] -%}",
  "{%- set ns.marker = '<__media' ~ message['content'].split('<__media')[1].split('__>')[0] ~ '__>' -%}",
  '{%- endif -%}',
  '{%- endfor -%}',
  '{{- bos_token -}}',
  "{%- if ns.marker -%}{{- '<image>' ~ ns.marker ~ '</image>\n\n' -}}{%- endif -%}",
  '{%- for message in messages -%}',
  "{%- set text = message['content'] if message['content'] is string else '' -%}",
  '{%- if ns.marker -%}{%- set text = text.replace(ns.marker, \'\') -%}{%- endif -%}',
  "{%- if message['role'] == 'user' -%}{{- 'Question: ' ~ (text | trim) ~ '\n\n' -}}",
  "{%- elif message['role'] == 'assistant' -%}{{- 'Answer: ' ~ (text | trim) ~ '\n\n' -}}",
  '{%- endif -%}',
  '{%- endfor -%}',
  "{%- if add_generation_prompt -%}{{- 'Answer: ' -}}{%- endif -%}",
].join('');
