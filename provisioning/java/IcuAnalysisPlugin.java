package org.rcu.opensearch.icu;

import com.ibm.icu.text.Normalizer2;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.icu.ICUFoldingFilter;
import org.apache.lucene.analysis.icu.ICUNormalizer2Filter;
import org.apache.lucene.analysis.icu.segmentation.ICUTokenizer;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.index.IndexSettings;
import org.opensearch.index.analysis.AbstractTokenFilterFactory;
import org.opensearch.index.analysis.AbstractTokenizerFactory;
import org.opensearch.index.analysis.NormalizingTokenFilterFactory;
import org.opensearch.index.analysis.TokenFilterFactory;
import org.opensearch.index.analysis.TokenizerFactory;
import org.opensearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.opensearch.plugins.AnalysisPlugin;
import org.opensearch.plugins.Plugin;

import java.util.Map;

/**
 * ICU analysis for rcu's local node: icu_folding, icu_normalizer and icu_tokenizer backed by
 * Lucene's lucene-analysis-icu. It exists because OpenSearch's analysis-icu plugin is not
 * published on the Maven registry this project provisions from; on a node that has the official
 * plugin, rcu uses that one and this class is never loaded.
 */
public final class IcuAnalysisPlugin extends Plugin implements AnalysisPlugin {

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of("icu_folding", FoldingFactory::new, "icu_normalizer", NormalizerFactory::new);
    }

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        return Map.of("icu_tokenizer", SegmentingTokenizerFactory::new);
    }

    /** Case folding, accent removal and Unicode normalization (UTR #30), usable in normalizers. */
    static final class FoldingFactory extends AbstractTokenFilterFactory implements NormalizingTokenFilterFactory {
        FoldingFactory(IndexSettings index, Environment env, String name, Settings settings) {
            super(index, name, settings);
        }

        @Override
        public TokenStream create(TokenStream input) {
            return new ICUFoldingFilter(input);
        }
    }

    /** Unicode normalization; setting "name" picks the form (nfc, nfkc, nfkc_cf), nfkc_cf by default. */
    static final class NormalizerFactory extends AbstractTokenFilterFactory implements NormalizingTokenFilterFactory {
        private final Normalizer2 normalizer;

        NormalizerFactory(IndexSettings index, Environment env, String name, Settings settings) {
            super(index, name, settings);
            String form = settings.get("name", "nfkc_cf");
            this.normalizer = Normalizer2.getInstance(null, form, Normalizer2.Mode.COMPOSE);
        }

        @Override
        public TokenStream create(TokenStream input) {
            return new ICUNormalizer2Filter(input, normalizer);
        }
    }

    /** Word segmentation by Unicode rules (UAX #29) with ICU's dictionaries. */
    static final class SegmentingTokenizerFactory extends AbstractTokenizerFactory {
        SegmentingTokenizerFactory(IndexSettings index, Environment env, String name, Settings settings) {
            super(index, settings, name);
        }

        @Override
        public Tokenizer create() {
            return new ICUTokenizer();
        }
    }
}
