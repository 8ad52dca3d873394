package io.tessera.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChatTemplateTest {

    static ChatTemplate forModel(Path dir) {
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            return ChatTemplate.of(TokenizerSettings.load(dir, tok));
        }
    }

    @Test
    void demoLlamaRendersChatMl() {
        ChatTemplate template = forModel(Path.of("models/demo-llama"));
        List<ChatMessage> hi = List.of(new ChatMessage("user", "Hi"));
        assertThat(template.render(hi, true)).isEqualTo("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
        assertThat(template.render(hi, false)).isEqualTo("<|im_start|>user\nHi<|im_end|>\n");
    }

    @Test
    void modelWithoutTemplateFails() {
        assertThatThrownBy(() -> forModel(Path.of("testdata/fixtures/models/llama-tiny")))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("no chat template");
    }

    @Test
    void raiseExceptionSurfacesItsMessage() {
        ChatTemplate template = new ChatTemplate("""
                {%- for message in messages %}
                    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
                        {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
                    {%- endif %}
                {%- endfor %}ok""", "<s>", "</s>");
        assertThat(template.render(List.of(new ChatMessage("user", "a")), false)).isEqualTo("ok");
        assertThatThrownBy(() -> template.render(List.of(new ChatMessage("assistant", "a")), false))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessage("chat template raised: Conversation roles must alternate user/assistant/user/assistant/...");
    }

    @Test
    void brokenTemplateFailsClearly() {
        ChatTemplate template = new ChatTemplate("{{ messages[0 }}", null, null);
        assertThatThrownBy(() -> template.render(List.of(new ChatMessage("user", "a")), false))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageStartingWith("chat template rendering failed: ");
    }

    /** Llama 3's template: Python precedence ({@code + x | trim}), bos_token, and expected output from transformers. */
    @Test
    void rendersLikeTransformers() {
        String llama3 = "{% set loop_messages = messages %}{% for message in loop_messages %}"
                + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
                + "+ message['content'] | trim + '<|eot_id|>' %}"
                + "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
                + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
        ChatTemplate template = new ChatTemplate(llama3, "<|begin_of_text|>", "<|eot_id|>");
        assertThat(template.render(List.of(new ChatMessage("system", "Be brief."), new ChatMessage("user", " Hi ")), true))
                .isEqualTo("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n");
    }

    @Test
    void whitespaceControlLikeTransformers() {
        // trim_blocks + lstrip_blocks + {{- as in transformers' Jinja environment
        String zephyrLike = """
                {% for message in messages %}
                    {% if message['role'] == 'user' %}
                        {{- '<|user|>\\n' + message['content'] + eos_token }}
                    {% endif %}
                {% endfor %}
                {% if add_generation_prompt %}
                    {{- '<|assistant|>' }}
                {% endif %}
                """;
        ChatTemplate template = new ChatTemplate(zephyrLike, "<s>", "</s>");
        assertThat(template.render(List.of(new ChatMessage("user", "Hi")), true))
                .isEqualTo("<|user|>\nHi</s>\n<|assistant|>\n");
    }
}
