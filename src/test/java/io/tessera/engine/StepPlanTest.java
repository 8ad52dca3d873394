package io.tessera.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.engine.AttentionPolicy.LmInfinite;
import io.tessera.engine.StepPlan.Row;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The step plan in plain Java, checked against layouts worked out by hand. Masks are shown one padded row at a
 * time as "G|K|N" (global keys | cache entries | the chunk's own keys), 'x' attended and '.' masked.
 * LM-Infinite here: G = 2, L = 4, D = 4, so a slot's cache is entries 0-1 (unrotated globals) and 2-5 (the ring,
 * position p at entry 2 + p % 4).
 */
class StepPlanTest {
    private static final LmInfinite LAMBDA = new LmInfinite(2, 4, 4);
    private static final AttentionPolicy FULL = AttentionPolicy.FULL;

    /** Mask of padded row (b, k) of the plan's only layout. */
    private static String mask(StepPlan p, int b, int k) {
        assertThat(p.layouts).hasSize(1);
        return mask(p.layouts.get(0), b, k);
    }

    private static String mask(StepPlan.Layout p, int b, int k) {
        int base = (b * p.qMax + k) * p.columns();
        StringBuilder s = new StringBuilder();
        for (int c = 0; c < p.columns(); c++) {
            if (c == p.globals || c == p.globals + p.kvCols) {
                s.append('|');
            }
            float v = p.mask[base + c];
            assertThat(v).isIn(0f, StepPlan.MASKED);
            s.append(v == 0f ? 'x' : '.');
        }
        return p.newCols == 0 ? s + "|" : s.toString();
    }

    private static int[] shape(StepPlan p) {
        StepPlan.Layout l = p.layouts.get(0);
        return new int[] {l.batch, l.qMax, p.tokens, l.globals, l.kvCols, l.newCols};
    }

    /** Cache writes as "row>slot:entry". */
    private static List<String> writes(StepPlan.Writes w) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < w.size(); i++) {
            out.add(w.rows()[i] + ">" + w.slots()[i] + ":" + w.entries()[i]);
        }
        return out;
    }

    @Test
    void aDecodeNextToAPrefillGetsItsOwnLayout() {
        // slot 0 decodes its 4th token, slot 1 prefills 2 tokens: the decode is not padded to the chunk's 2 queries
        StepPlan p = new StepPlan(List.of(new Row(0, 3, 1, FULL), new Row(1, 0, 2, FULL)), 16);
        assertThat(p.tokens).isEqualTo(3);
        assertThat(p.rowStart).containsExactly(0, 1);
        assertThat(p.positions).containsExactly(3, 0, 1);
        assertThat(p.globalPositions).containsExactly(3, 0, 1);
        assertThat(p.layouts).hasSize(2);
        StepPlan.Layout decode = p.layouts.get(0);
        StepPlan.Layout chunk = p.layouts.get(1);
        // decodes: a view of slots 0..0, one query each
        assertThat(new int[] {decode.batch, decode.qMax, decode.kvCols}).containsExactly(1, 1, 4);
        assertThat(decode.slots).isNull();
        assertThat(decode.padIndex).containsExactly(0);
        // chunks: slot 1 gathered, two queries
        assertThat(new int[] {chunk.batch, chunk.qMax, chunk.kvCols}).containsExactly(1, 2, 2);
        assertThat(chunk.slots).containsExactly(1);
        assertThat(chunk.padIndex).containsExactly(1, 2);
        // the layouts' outputs are concatenated: the chunk's padded rows come after the decode's one
        assertThat(p.unpadIndex).containsExactly(0, 1, 2);
        assertThat(p.packedIsPadded).isFalse();
        assertThat(writes(p.before)).containsExactly("0>0:3", "1>1:0", "2>1:1");
        assertThat(p.globalsBefore.size()).isZero();
        assertThat(p.after.size()).isZero();
        assertThat(mask(decode, 0, 0)).isEqualTo("|xxxx|");
        assertThat(mask(chunk, 0, 0)).isEqualTo("|x.|");
        assertThat(mask(chunk, 0, 1)).isEqualTo("|xx|");
    }

    @Test
    void chunksAloneShareOneLayoutOverTheSlotView() {
        StepPlan p = new StepPlan(List.of(new Row(0, 0, 3, FULL), new Row(1, 4, 2, FULL)), 16);
        assertThat(shape(p)).containsExactly(2, 3, 5, 0, 6, 0);
        assertThat(p.layouts.get(0).slots).isNull();
        // slot 1's padding repeats its own first token, not another sequence's
        assertThat(p.layouts.get(0).padIndex).containsExactly(0, 1, 2, 3, 4, 3);
        assertThat(p.unpadIndex).containsExactly(0, 1, 2, 3, 4);
        assertThat(mask(p, 1, 1)).isEqualTo("|xxxxxx|");
        assertThat(mask(p, 1, 2)).isEqualTo("|......|");
    }

    @Test
    void packedIsPaddedOnlyWhenEverySlotFillsEveryPaddedRow() {
        assertThat(new StepPlan(List.of(new Row(0, 5, 1, FULL), new Row(1, 2, 1, FULL)), 16).packedIsPadded).isTrue();
        assertThat(new StepPlan(List.of(new Row(0, 0, 7, FULL)), 16).packedIsPadded).isTrue();
        // slot 0 is not in the step, yet the padded view starts at slot 0
        assertThat(new StepPlan(List.of(new Row(1, 2, 1, FULL)), 16).packedIsPadded).isFalse();
        assertThat(new StepPlan(List.of(new Row(0, 0, 3, FULL), new Row(1, 4, 2, FULL)), 16).packedIsPadded).isFalse();
    }

    @Test
    void lmInfiniteDecodeFarAndNearTheStart() {
        // slot 0 at position 9: ring holds 8, 9, 6, 7 (entries 2..5); slot 1 at position 1: still all local
        StepPlan p = new StepPlan(List.of(new Row(0, 9, 1, LAMBDA), new Row(1, 1, 1, LAMBDA)), 16);
        assertThat(shape(p)).containsExactly(2, 1, 2, 2, 6, 0);
        assertThat(p.positions).containsExactly(9, 1);
        // the global branch rotates the query by min(D, p)
        assertThat(p.globalPositions).containsExactly(4, 1);
        assertThat(p.packedIsPadded).isTrue();
        assertThat(writes(p.before)).containsExactly("0>0:3", "1>1:3");
        // position 1 < G also goes, unrotated, to global entry 1
        assertThat(writes(p.globalsBefore)).containsExactly("1>1:1");
        assertThat(p.after.size()).isZero();
        // p = 9: globals 0, 1 (distance >= L) and the ring's 6..9; never the rotated copies at entries 0, 1
        assertThat(mask(p, 0, 0)).isEqualTo("xx|..xxxx|");
        // p = 1: keys 0 and 1 are local (distance < L), read rotated from the ring; entries 4, 5 are unwritten
        assertThat(mask(p, 1, 0)).isEqualTo("..|..xx..|");
    }

    @Test
    void lmInfiniteChunkLongerThanTheWindowNextToAFullRow() {
        // slot 1 has positions 0..2 cached and prefills 3..8 in one chunk; slot 0 prefills 2 tokens with full attention
        StepPlan p = new StepPlan(List.of(new Row(0, 0, 2, FULL), new Row(1, 3, 6, LAMBDA)), 16);
        assertThat(shape(p)).containsExactly(2, 6, 8, 2, 5, 6);
        assertThat(p.positions).containsExactly(0, 1, 3, 4, 5, 6, 7, 8);
        assertThat(p.globalPositions).containsExactly(0, 1, 3, 4, 4, 4, 4, 4);
        assertThat(writes(p.before)).containsExactly("0>0:0", "1>0:1");
        assertThat(p.globalsBefore.size()).isZero();
        // the chunk's ring entries are written after attention, and only its last L = 4 tokens (positions 5..8)
        assertThat(writes(p.after)).containsExactly("4>1:3", "5>1:4", "6>1:5", "7>1:2");
        // a full-attention row never sees the global or chunk parts
        assertThat(mask(p, 0, 0)).isEqualTo("..|x....|......");
        assertThat(mask(p, 0, 1)).isEqualTo("..|xx...|......");
        assertThat(mask(p, 0, 2)).isEqualTo("..|.....|......");
        // cached ring: entries 2, 3, 4 hold positions 0, 1, 2; chunk key n is position 3 + n
        assertThat(mask(p, 1, 0)).isEqualTo("..|..xxx|x.....");
        assertThat(mask(p, 1, 1)).isEqualTo("x.|...xx|xx....");
        assertThat(mask(p, 1, 2)).isEqualTo("xx|....x|xxx...");
        assertThat(mask(p, 1, 3)).isEqualTo("xx|.....|xxxx..");
        assertThat(mask(p, 1, 4)).isEqualTo("xx|.....|.xxxx.");
        assertThat(mask(p, 1, 5)).isEqualTo("xx|.....|..xxxx");
    }

    @Test
    void lmInfiniteChunkAfterTheRingHasWrapped() {
        // positions 0..8 cached: ring entries 2..5 hold positions 8, 5, 6, 7; the chunk is 9..11
        StepPlan p = new StepPlan(List.of(new Row(0, 9, 3, LAMBDA)), 16);
        assertThat(shape(p)).endsWith(2, 6, 3);
        assertThat(writes(p.after)).containsExactly("0>0:3", "1>0:4", "2>0:5");
        assertThat(mask(p, 0, 0)).isEqualTo("xx|..x.xx|x..");
        assertThat(mask(p, 0, 1)).isEqualTo("xx|..x..x|xx.");
        assertThat(mask(p, 0, 2)).isEqualTo("xx|..x...|xxx");
    }

    @Test
    void refusesRowsPastTheCacheCapacity() {
        assertThatThrownBy(() -> new StepPlan(List.of(new Row(0, 14, 3, FULL)), 16))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("needs 17 KV entries, capacity is 16");
        assertThatThrownBy(() -> new StepPlan(List.of(new Row(0, 0, 1, new LmInfinite(8, 16, 16))), 16))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("lm-infinite needs 24 KV entries");
    }
}
